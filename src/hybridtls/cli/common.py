"""What every command shares: the exit statuses, the one error line, the common options, and report writing.

Only ``cli`` prints errors and chooses exit statuses; the application (``pipeline``) raises and returns.
"""

from __future__ import annotations

import argparse
import enum
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from hybridtls.errors import UsageError
from hybridtls.evidence.files import DEFAULT_MAX_FILE_BYTES

if TYPE_CHECKING:
    from hybridtls.evidence.certificates import PasswordSource
    from hybridtls.model import InputProblem, Notice, Severity
    from hybridtls.pipeline import ProbeOptions, TrustOptions
    from hybridtls.report import Plan, Report

FORMATS = ("terminal", "json", "html", "markdown")  # as report.render.FORMATS, without importing it at start-up
SEVERITIES = ("error", "warning", "info", "never")
COLOR_CHOICES = ("auto", "always", "never")


class ExitStatus(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2
    ALL_PROBES_FAILED = 3
    INTERRUPTED = 130


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see '{self.prog} --help'")


def error_line(err: TextIO, message: str, hint: str | None = None, *, label: str = "error") -> None:
    """``hybridtls: error: <what, where>`` and a ``hint:`` line, each on one line with nothing live in it."""
    from hybridtls.report.escape import inert

    err.write(f"hybridtls: {label}: {inert(message, single_line=True)}\n")
    if hint:
        err.write(f"hint: {inert(hint, single_line=True)}\n")


def print_problems(err: TextIO, problems: Iterable[InputProblem]) -> None:
    for problem in problems:
        error_line(err, f"{problem.source}: {problem.message}", problem.hint)


def print_notices(err: TextIO, notices: Iterable[Notice]) -> None:
    for notice in notices:
        error_line(err, f"{notice.source}: {notice.message}", notice.hint, label="warning")


def add_report_options(parser: argparse.ArgumentParser, *, fail_on: str = "warning", what: str = "report") -> None:
    """The options every judging command shares: where the output goes, when it fails, what day it is."""
    parser.add_argument("--format", choices=FORMATS, default="terminal", help=f"{what} format (default: terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", help=f"write the {what} to FILE instead of standard output")
    parser.add_argument("--fail-on", choices=SEVERITIES, default=fail_on,
                        help=f"exit 1 when a finding is at or above this severity (default: {fail_on})")
    parser.add_argument("--now", metavar="DATE",
                        help="judge dates as of DATE (YYYY-MM-DD[THH:MM]; default: now)")
    parser.add_argument("--width", type=_width, metavar="N",
                        help="wrap the terminal report at N columns (default: the terminal's width; no wrapping "
                             "when the output is not a terminal, so paths and commands stay whole in a file or ticket)")
    parser.add_argument("--color", choices=COLOR_CHOICES, default="auto",
                        help="colour in the terminal report: auto (default: on a terminal only; NO_COLOR and "
                             "FORCE_COLOR are honoured), always or never")


def add_summary_options(parser: argparse.ArgumentParser) -> None:
    """How much of a report to show: the summary only, or every check that could not run."""
    parser.add_argument("--brief", action="store_true",
                        help="show only the summary: the verdict, each root cause and the one command that fixes it "
                             "(terminal, Markdown, HTML; JSON is always whole)")
    parser.add_argument("--verbose", action="store_true",
                        help="list every check that could not run, with why (by default one line counts them)")


def add_trust_options(parser: argparse.ArgumentParser, *, password: bool = True, recorded: bool = False) -> None:
    """Where certificates other than the subject come from, for every command that builds chains."""
    parser.add_argument("--intermediates", action="append", default=[], metavar="FILE",
                        help="intermediate certificates to build certificate files' chains with (repeatable); "
                             "a server's chain is judged as served")
    parser.add_argument("--trust", action="append", default=[], metavar="FILE",
                        help="extra trusted roots, e.g. an internal CA (repeatable); Mozilla's roots are always trusted")
    if recorded:
        parser.add_argument("--ignore-recorded-trust", action="store_true",
                            help="do not trust the anchors a saved hybridtls report says it was judged with")
    if password:
        parser.add_argument("--password-file", metavar="FILE",
                            help="the PFX password, on the first line (else $HYBRIDTLS_PFX_PASSWORD, else a prompt)")


def add_probe_options(parser: argparse.ArgumentParser) -> None:
    """How to probe (``probe`` and ``watch``): where the addresses come from, what the certificate must match,
    how politely, and the trust the served chains are judged with."""
    parser.add_argument("--targets-file", metavar="FILE", help="more targets, one per line (# starts a comment)")
    parser.add_argument("--mx", action="append", default=[], metavar="DOMAIN", help="probe the MX hosts of DOMAIN")
    parser.add_argument("--resolve", action="append", default=[], metavar="NAME=ADDR[,ADDR]",
                        help="use these addresses for NAME instead of DNS")
    parser.add_argument("--nameserver", metavar="IP[:PORT]",
                        help="ask this DNS server instead of the system's; give a validating resolver: its AD bit is "
                             "the DNSSEC status of the TLSA (DANE) records looked up for each host")
    parser.add_argument("--ehlo", metavar="NAME", help="the name to send in EHLO (default: this machine's name)")
    parser.add_argument("--expect-name", metavar="NAME",
                        help="the name certificates must cover: the outbound connector's TlsDomain (default: host name)")
    parser.add_argument("--expect-cert", action="append", default=[], metavar="TLSNAME",
                        help="the TlsCertificateName ('<I>...<S>...') the presented certificate must match")
    add_trust_options(parser, password=False)
    parser.add_argument("--concurrency", type=int, default=10, help="connections at once, in all (default: 10)")
    parser.add_argument("--per-address", type=int, default=1, help="connections at once per address (default: 1)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds for each step (default: 15)")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run (default: 300)")
    parser.add_argument("--retry-after", type=float, default=5.0, metavar="SECONDS",
                        help="after a 421 greeting, retry once after this pause (default: 5)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the TLS 1.0/1.1/1.2/1.3 acceptance sweep")
    parser.add_argument("--no-mta-sts", action="store_true",
                        help="with --mx, skip the MTA-STS and TLS-RPT records and the policy fetch")
    parser.add_argument("--mta-sts-port", type=int, default=443, help=argparse.SUPPRESS)  # tests: a loopback server


def probe_options(args: argparse.Namespace) -> ProbeOptions:
    from hybridtls.pipeline import ProbeOptions

    return ProbeOptions(mx=args.mx, resolve=args.resolve, nameserver=args.nameserver, ehlo=args.ehlo,
                        expect_name=args.expect_name, expect_cert=args.expect_cert, concurrency=args.concurrency,
                        per_address=args.per_address, timeout=args.timeout, deadline=args.deadline,
                        retry_after=args.retry_after, sweep=not args.no_sweep,
                        mta_sts=not args.no_mta_sts, mta_sts_port=args.mta_sts_port)


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-file-size", type=_byte_count, default=DEFAULT_MAX_FILE_BYTES, metavar="BYTES",
                        help="the largest file read, e.g. 512M or 2G (default: 256M); larger files are refused")


def _width(text: str) -> int:
    if not text.isdigit() or not 20 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a width between 20 and 10000 columns")
    return int(text)


_SIZE = re.compile(r"^\s*(\d{1,15})\s*([KMG]?)(?:I?B)?\s*$", re.IGNORECASE)


def _byte_count(text: str) -> int:
    match = _SIZE.match(text)
    if not match or int(match[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 300000000, 512M or 2G")
    return int(match[1]) * int(1024 ** "_KMG".index(match[2].upper() or "_"))


def trust_options(args: argparse.Namespace, *, quiet: Quieting | None = None) -> TrustOptions:
    from hybridtls.pipeline import TrustOptions

    return TrustOptions(trust=tuple(args.trust), intermediates=tuple(args.intermediates),
                        use_recorded=not getattr(args, "ignore_recorded_trust", False),
                        passwords=password_source(getattr(args, "password_file", None), quiet=quiet))


Quieting = Callable[[], AbstractContextManager[None]]  # what keeps the terminal quiet during a prompt (the bar off)


def password_source(password_file: str | None, *, quiet: Quieting | None = None) -> PasswordSource:
    """Where a PFX password comes from: a file, the environment, or a prompt on a terminal (with the progress bar,
    if any, off the screen meanwhile: ``quiet``). Never echoed or kept."""
    from hybridtls.evidence.sniff import environment_password
    from hybridtls.pipeline import read_password_file

    if password_file:
        return read_password_file(password_file)

    def ask(path: str) -> bytes | None:
        known = environment_password(path)
        if known is not None:
            return known
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            with quiet() if quiet else nullcontext():
                return getpass.getpass(f"Password for {path}: ").encode()
        return None

    return ask


def parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r} is not a date", hint="write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def parse_fail_on(text: str) -> Severity | None:
    from hybridtls.model import Severity

    return None if text == "never" else Severity(text)


def given_files(args: argparse.Namespace, *names: str) -> list[str]:
    """Every file named by these options (single values or lists), for the --output guard."""
    found: list[str] = []
    for name in names:
        value = getattr(args, name, None)
        if isinstance(value, str):
            found.append(value)
        elif value:
            found.extend(value)
    return found


def write_result(result: Report | Plan, args: argparse.Namespace, out: TextIO, *, inputs: Sequence[str]) -> None:
    """The report or plan in the chosen format, to standard output or to --output.

    A file is written whole or not at all (a temporary file beside it, renamed into place), and never over one
    of the run's inputs.
    """
    brief, verbose = getattr(args, "brief", False), getattr(args, "verbose", False)  # not every command has them
    color = {"always": True, "never": False}.get(getattr(args, "color", "auto"))
    if not args.output:
        result.write(args.format, out, width=args.width, color=color, brief=brief, verbose=verbose)
        return
    _refuse_overwriting_inputs(args.output, [*inputs, *result.evidence.files])
    _write_whole(args.output, lambda stream: result.write(args.format, stream, width=args.width, color=bool(color),
                                                          brief=brief, verbose=verbose))


def write_text_whole(output: str, text: str) -> None:
    """A text file written whole or not at all (UTF-8, ``\\n`` line ends)."""
    _write_whole(output, lambda stream: stream.write(text))


def _write_whole(output: str, write: Callable[[TextIO], object]) -> None:
    """Write a file whole or not at all: to a temporary file beside it, renamed into place."""
    target = Path(output)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            write(stream)
        os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_error_document(argv: Sequence[str], args: argparse.Namespace | None, out: TextIO, message: str,
                         hint: str | None, problems: Sequence[tuple[str, str | None]] = (), *,
                         commands: frozenset[str] = frozenset()) -> None:
    """With ``--format json``, a run that ends in an error still writes a JSON document (``verdict`` "error"),
    where the report would have gone: a pipeline reading the report reads why there is none. It goes to standard
    output when --output cannot take it (the error may be about --output itself)."""
    fmt = getattr(args, "format", None) if args is not None else _format_in(argv)
    if fmt != "json":
        return
    from hybridtls.report.json import dump_json, error_document

    command = getattr(args, "command", None) if args is not None else next((a for a in argv if a in commands), None)
    text = dump_json(error_document(command, message, hint, problems))
    output = getattr(args, "output", None)
    inputs = given_files(args, "paths", "trust", "intermediates", "password_file", "files", "new_cert") if args else []
    if output and not _among_inputs(output, inputs):
        try:
            _write_whole(output, lambda stream: stream.write(text))
            return
        except UsageError:
            pass
    out.write(text)


def _among_inputs(output: str, inputs: Sequence[str]) -> bool:
    """The output is one of the inputs or inside a folder given (nothing was read, so the files are not known)."""
    target = Path(output).resolve()
    return any(target == Path(given).resolve() or Path(given).resolve() in target.parents for given in inputs)


def _format_in(argv: Sequence[str]) -> str | None:
    """``--format`` as written on a command line that did not parse."""
    for index, word in enumerate(argv):
        if word.startswith("--format="):
            return word.partition("=")[2]
        if word == "--format" and index + 1 < len(argv):
            return argv[index + 1]
    return None


def _refuse_overwriting_inputs(output: str, inputs: Sequence[str]) -> None:
    target = Path(output).resolve()
    if any(Path(f).resolve() == target for f in inputs):
        raise UsageError(f"--output {output} is one of the files this run reads", hint="write the report elsewhere")


def finish(result: Report | Plan, args: argparse.Namespace, out: TextIO, err: TextIO, *input_options: str) -> int:
    """What every judging command ends with: the files that could not be read, on stderr; the report, where it
    was asked for (never over one of the files named by ``input_options``); the exit status."""
    print_problems(err, result.evidence.problems)
    if args.format == "json" and result.evidence.notices:
        print_notices(err, result.evidence.notices)
    partial = getattr(result, "partial", None)
    status = ExitStatus.INTERRUPTED if partial else ExitStatus.FINDINGS if result.failed else ExitStatus.CLEAN
    try:
        write_result(result, args, out, inputs=given_files(args, *input_options))
        out.flush()
    except BrokenPipeError:
        stop_writing(out)
    if partial:
        error_line(err, f"interrupted: the report covers {partial.done:,} of {partial.total:,} {partial.unit}")
    return status


def stop_writing(out: TextIO) -> None:
    """After a closed pipe (``| head``): nothing more goes to standard output, and nothing is said at exit.

    Python's advice: point the descriptor at devnull, so the interpreter's last flush does not fail again."""
    try:
        fileno = out.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)
