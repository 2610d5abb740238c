"""The command line: ``main(argv)`` parses, runs one command module, prints errors and picks the exit status.

Each command is one module here with ``add_parser(commands)`` and ``run(args, out, err) -> int``; they import
the application (``pipeline``) and the reports only when they run, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from hybridtls._version import __version__
from hybridtls.cli import cert, check, collector, explain, plan, probe, watch
from hybridtls.cli.common import ExitStatus, Parser, error_line, stop_writing, write_error_document
from hybridtls.errors import HybridTlsError, NothingUsable

COMMANDS = (check, cert, probe, plan, explain, collector, watch)
_NAMES = frozenset(command.NAME for command in COMMANDS)


def parser() -> Parser:
    top = Parser(
        prog="hybridtls",
        description="Find, explain and prevent the certificate and TLS faults that stop mail flowing between "
                    "Exchange Server on-premises and Exchange Online.",
    )
    top.add_argument("--version", action="version", version=f"hybridtls {__version__}")
    top.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return top


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    words = list(sys.argv[1:] if argv is None else argv)
    args = None

    def failed(message: str, hint: str | None = None, problems: Sequence[tuple[str, str | None]] = (),
               status: int = ExitStatus.ERROR) -> int:
        for where, problem_hint in problems:
            error_line(err, where, problem_hint)
        error_line(err, message, hint)
        if "--nagios" in words:  # a plugin that could not run says UNKNOWN on its one line, and exits 3
            from hybridtls.report.nagios import unknown

            plugin = unknown(message)
            out.write(plugin.text)
            return int(plugin.status)
        write_error_document(words, args, out, message, hint, problems, commands=_NAMES)
        return status

    try:
        args = parser().parse_args(words)
        for command in COMMANDS:
            if args.command == command.NAME:
                return int(command.run(args, out, err))
        parser().print_help(out)
        return ExitStatus.ERROR
    except NothingUsable as exc:
        return failed(str(exc), exc.hint, exc.problems)
    except HybridTlsError as exc:
        return failed(str(exc), exc.hint)
    except KeyboardInterrupt:
        return failed("interrupted", status=ExitStatus.INTERRUPTED)
    except BrokenPipeError:  # a command's output (explain, collector) to a reader that went away: nothing to say
        stop_writing(out)
        return ExitStatus.CLEAN
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a message
        if args is not None and getattr(args, "debug", False):
            raise
        return failed(f"internal error: {type(exc).__name__}: {exc}", "run again with --debug for the traceback")


def entry_point() -> None:
    status = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away after the report was written: the status still stands
        stop_writing(sys.stdout)
    sys.exit(status)
