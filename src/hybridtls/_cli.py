"""The command line: the only module that parses argv, prints errors and chooses the exit status."""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from hybridtls import __version__
from hybridtls.errors import HybridTlsError, UsageError

if TYPE_CHECKING:
    from hybridtls.model import EvidenceSet
    from hybridtls.report import CheckReport


class ExitStatus(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2
    ALL_PROBES_FAILED = 3
    INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see '{self.prog} --help'")


_FORMATS = ("terminal", "json")
_SEVERITIES = ("error", "warning", "info", "never")


def _parser() -> _Parser:
    parser = _Parser(
        prog="hybridtls",
        description="Find, explain and prevent the certificate and TLS faults that stop mail flowing between "
                    "Exchange Server on-premises and Exchange Online.",
    )
    parser.add_argument("--version", action="version", version=f"hybridtls {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser(
        "check", help="diagnose saved PowerShell output (files and folders)",
        description="Read saved PowerShell output (Format-List text, tables, CSV, JSON; UTF-8 or UTF-16) from "
                    "files and folders, and report what stops hybrid mail, with the PowerShell that fixes it.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="evidence files or folders (read recursively)")
    check.add_argument("--format", choices=_FORMATS, default="terminal", help="report format (default: terminal)")
    check.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument("--fail-on", choices=_SEVERITIES, default="warning",
                       help="exit 1 when a finding is at or above this severity (default: warning)")
    check.add_argument("--now", metavar="DATE", help="judge expiry as of DATE (YYYY-MM-DD[THH:MM]; default: now)")
    check.add_argument("--date-order", choices=("dmy", "mdy"),
                       help="day/month order of dates like 12/02/2016 when the evidence does not settle it")
    check.add_argument("--width", type=int, help=argparse.SUPPRESS)

    explain = commands.add_parser("explain", help="describe the checks: what each looks for and how to fix it")
    explain.add_argument("ids", nargs="*", metavar="CHECK_ID", help="check ids (default: all)")
    explain.add_argument("--format", choices=("terminal", "markdown"), default="terminal")
    return parser


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = None
    try:
        args = _parser().parse_args(argv)
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "explain":
            return _explain(args, out)
        _parser().print_help(out)
        return ExitStatus.ERROR
    except HybridTlsError as exc:
        _error(err, str(exc), exc.hint)
        return ExitStatus.ERROR
    except KeyboardInterrupt:
        _error(err, "interrupted")
        return ExitStatus.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a message
        if args is not None and getattr(args, "debug", False):
            raise
        _error(err, f"internal error: {type(exc).__name__}: {exc}", "run again with --debug for the traceback")
        return ExitStatus.ERROR


def entry_point() -> None:
    sys.exit(main())


def _error(err: TextIO, message: str, hint: str | None = None, *, label: str = "error") -> None:
    from hybridtls.report.escape import inert

    err.write(f"hybridtls: {label}: {inert(message, single_line=True)}\n")
    if hint:
        err.write(f"hint: {inert(hint, single_line=True)}\n")


def _parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now().replace(microsecond=0)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r} is not a date", hint="write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.checks import CheckContext, run_checks
    from hybridtls.evidence.dates import DateOrder
    from hybridtls.evidence.loader import load_evidence
    from hybridtls.model import Severity
    from hybridtls.report import CheckReport

    now = _parse_now(args.now)
    evidence = load_evidence(args.paths, DateOrder(args.date_order) if args.date_order else None)
    if args.output:
        _refuse_overwriting_evidence(args.output, evidence.files)
    for problem in evidence.problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    if not evidence.usable:
        raise UsageError(
            "nothing usable was read from " + ", ".join(args.paths),
            hint="give saved output of Get-ExchangeCertificate | Format-List (from each server) or Get-MessageTrace",
        )
    if args.now is None:
        evidence = _note_old_evidence(evidence, now, args.paths)
    outcomes = tuple(run_checks(evidence, CheckContext(now=now)))
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    report = CheckReport(evidence=evidence, outcomes=outcomes, now=now, fail_on=fail_on)
    if args.format == "json":
        for notice in evidence.notices:
            _error(err, f"{notice.source}: {notice.message}", notice.hint, label="warning")
    _write_report(report, args, out)
    return ExitStatus.FINDINGS if report.failed else ExitStatus.CLEAN


def _refuse_overwriting_evidence(output: str, files: Sequence[str]) -> None:
    target = Path(output).resolve()
    if any(Path(f).resolve() == target for f in files):
        raise UsageError(f"--output {output} is one of the evidence files", hint="write the report elsewhere")


def _note_old_evidence(evidence: EvidenceSet, now: datetime, paths: Sequence[str]) -> EvidenceSet:
    from hybridtls.model import Notice, Source

    dates = [e.received for e in evidence.trace_entries if e.received]
    dates += [c.not_before for c in evidence.certificates if c.not_before]
    if not dates or (now - max(dates)).days < 365:
        return evidence
    newest = max(dates)
    notice = Notice(
        source=Source(path=" ".join(paths)),
        message=f"the newest date in the evidence is {newest:%Y-%m-%d}, long before {now:%Y-%m-%d}: expiry is "
                "judged against today",
        hint=f"to judge the evidence as of when it was saved, pass --now {newest:%Y-%m-%d}",
    )
    return replace(evidence, notices=(*evidence.notices, notice))


def _write_report(report: CheckReport, args: argparse.Namespace, out: TextIO) -> None:
    stream = out
    handle = None
    if args.output:
        try:
            handle = open(args.output, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        stream = handle
    try:
        if args.format == "json":
            from hybridtls.report.json import render_json

            stream.write(render_json(report))
        else:
            from hybridtls.report.terminal import make_console, render_terminal

            color = False if handle else None
            render_terminal(report, make_console(stream, width=args.width or (100 if handle else None), color=color))
    finally:
        if handle:
            handle.close()


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    from hybridtls.checks import CHECKS, CHECKS_BY_ID
    from hybridtls.report.catalogue import render_catalogue

    unknown = [i for i in args.ids if i.upper() not in CHECKS_BY_ID]
    if unknown:
        raise UsageError(f"no check {', '.join(unknown)}", hint="'hybridtls explain' lists every check")
    checks = [CHECKS_BY_ID[i.upper()] for i in args.ids] or list(CHECKS)
    out.write(render_catalogue(checks, markdown=args.format == "markdown"))
    return ExitStatus.CLEAN
