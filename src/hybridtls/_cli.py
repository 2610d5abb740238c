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
    from hybridtls.report import Report


class ExitStatus(enum.IntEnum):
    CLEAN = 0
    FINDINGS = 1
    ERROR = 2
    ALL_PROBES_FAILED = 3
    INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see '{self.prog} --help'")


_FORMATS = ("terminal", "json", "html", "markdown")
_SEVERITIES = ("error", "warning", "info", "never")


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    """The options every judging command shares: where the report goes, when it fails, what day it is."""
    parser.add_argument("--format", choices=_FORMATS, default="terminal", help="report format (default: terminal)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output")
    parser.add_argument("--fail-on", choices=_SEVERITIES, default="warning",
                        help="exit 1 when a finding is at or above this severity (default: warning)")
    parser.add_argument("--now", metavar="DATE",
                        help="judge dates as of DATE (YYYY-MM-DD[THH:MM]; default: now)")
    parser.add_argument("--width", type=int, help=argparse.SUPPRESS)


def _add_certificate_sources(parser: argparse.ArgumentParser, *, intermediates: bool = True,
                             password: bool = True) -> None:
    """Where certificates other than the subject come from, for the commands that build chains."""
    if intermediates:
        parser.add_argument("--intermediates", action="append", default=[], metavar="FILE",
                            help="intermediate certificates to build chains with (repeatable)")
    parser.add_argument("--trust", action="append", default=[], metavar="FILE",
                        help="extra trusted roots, e.g. an internal CA (repeatable); Mozilla's roots are always trusted")
    if password:
        parser.add_argument("--password-file", metavar="FILE",
                            help="the PFX password, on the first line (else $HYBRIDTLS_PFX_PASSWORD, else a prompt)")


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
    check.add_argument("--date-order", choices=("dmy", "mdy"),
                       help="day/month order of dates like 12/02/2016 when the evidence does not settle it")
    _add_report_options(check)

    cert = commands.add_parser(
        "cert", help="show certificates as Windows and Exchange see them, and what will break",
        description="Read certificate files (PEM, DER/.cer, PKCS#7/.p7b, PKCS#12/.pfx, base64 RawData) and show "
                    "Subject, Issuer and TlsCertificateName exactly as Windows and Exchange render them, the chain "
                    "Exchange Online would build (without fetching), and every defect in it.",
    )
    cert.add_argument("files", nargs="+", metavar="FILE", help="certificate files")
    _add_certificate_sources(cert)
    cert.add_argument("--name", action="append", default=[], metavar="HOST",
                      help="a host name the certificate must cover, e.g. the outbound connector's TlsDomain")
    cert.add_argument("--fetch-aia", action="store_true",
                      help="download missing intermediates from their caIssuers URLs (the only network access)")
    cert.add_argument("--tls-certificate-name", action="append", default=[], metavar="VALUE",
                      help="a TlsCertificateName ('<I>issuer<S>subject') to compare with the certificate")
    _add_report_options(cert)

    probe = commands.add_parser(
        "probe", help="connect to SMTP servers as Exchange Online would: every address, STARTTLS, the chain served",
        description="Probe every address behind the names given over real SMTP (EHLO, STARTTLS, TLS handshake, "
                    "QUIT; never mail, never authentication), capture the chain each presents, and judge it as "
                    "Exchange Online would.",
    )
    probe.add_argument("targets", nargs="*", metavar="TARGET", help="host[:port], IPv4 or [IPv6][:port] (port 25)")
    probe.add_argument("--targets-file", metavar="FILE", help="more targets, one per line (# starts a comment)")
    probe.add_argument("--mx", action="append", default=[], metavar="DOMAIN", help="probe the MX hosts of DOMAIN")
    probe.add_argument("--resolve", action="append", default=[], metavar="NAME=ADDR[,ADDR]",
                       help="use these addresses for NAME instead of DNS")
    probe.add_argument("--nameserver", metavar="IP[:PORT]", help="ask this DNS server instead of the system's")
    probe.add_argument("--ehlo", metavar="NAME", help="the name to send in EHLO (default: this machine's name)")
    probe.add_argument("--expect-name", metavar="NAME",
                       help="the name certificates must cover: the outbound connector's TlsDomain (default: host name)")
    probe.add_argument("--expect-cert", action="append", default=[], metavar="TLSNAME",
                       help="the TlsCertificateName ('<I>...<S>...') the presented certificate must match")
    _add_certificate_sources(probe, intermediates=False, password=False)
    probe.add_argument("--concurrency", type=int, default=10, help="connections at once, in all (default: 10)")
    probe.add_argument("--per-address", type=int, default=1, help="connections at once per address (default: 1)")
    probe.add_argument("--timeout", type=float, default=15.0, help="seconds for each step (default: 15)")
    probe.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole run (default: 300)")
    probe.add_argument("--retry-after", type=float, default=5.0, metavar="SECONDS",
                       help="after a 421 greeting, retry once after this pause (default: 5)")
    probe.add_argument("--no-sweep", action="store_true", help="skip the TLS 1.0/1.1/1.2/1.3 acceptance sweep")
    _add_report_options(probe)

    plan = commands.add_parser(
        "plan", help="plan a certificate change: what refers to the current one, the steps, what would fail",
        description="Before a certificate change: list every object that refers to the current certificate, the "
                    "ordered PowerShell steps to switch, and what would fail after the change if done as planned.",
    )
    plan.add_argument("paths", nargs="*", metavar="EVIDENCE", help="the current configuration (as for check)")
    plan.add_argument("--new-cert", required=True, metavar="FILE", help="the new certificate (PFX, PEM bundle, .cer)")
    _add_certificate_sources(plan)
    plan.add_argument("--format", choices=_FORMATS, default="terminal",
                      help="report format (default: terminal)")
    plan.add_argument("--output", "-o", metavar="FILE", help="write the plan to FILE instead of standard output")
    plan.add_argument("--fail-on", choices=_SEVERITIES, default="error",
                      help="exit 1 when a risk is at or above this severity (default: error)")
    plan.add_argument("--now", metavar="DATE", help="plan as of DATE (default: now)")
    plan.add_argument("--width", type=int, help=argparse.SUPPRESS)

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
        if args.command == "cert":
            return _cert(args, out, err)
        if args.command == "plan":
            from hybridtls._plan_command import plan_command

            return plan_command(args, out, err)
        if args.command == "probe":
            from hybridtls._probe_command import probe_command

            return probe_command(args, out, err)
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
    from hybridtls.checks import CheckContext, checks_for, run_checks
    from hybridtls.evidence.dates import DateOrder
    from hybridtls.evidence.loader import load_evidence
    from hybridtls.model import Severity
    from hybridtls.report import Report

    now = _parse_now(args.now)
    evidence = load_evidence(args.paths, DateOrder(args.date_order) if args.date_order else None)
    for problem in evidence.problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    if not evidence.usable:
        raise UsageError(
            "nothing usable was read from " + ", ".join(args.paths),
            hint="give saved output of Get-ExchangeCertificate | Format-List (from each server) or Get-MessageTrace",
        )
    if args.now is None:
        evidence = _note_old_evidence(evidence, now, args.paths)
    outcomes = tuple(run_checks(evidence, CheckContext(now=now), checks_for("check")))
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    report = Report(command="check", evidence=evidence, checks=checks_for("check"), outcomes=outcomes, now=now, fail_on=fail_on)
    if args.format == "json":
        for notice in evidence.notices:
            _error(err, f"{notice.source}: {notice.message}", notice.hint, label="warning")
    _write_report(report, args, out)
    return ExitStatus.FINDINGS if report.failed else ExitStatus.CLEAN


def _cert(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from hybridtls.checks import CheckContext, checks_for, run_checks
    from hybridtls.evidence.certsource import (
        build_chains,
        build_chains_fetching,
        read_certificate_paths,
        trust_anchors,
    )
    from hybridtls.model import EvidenceSet, InputProblem, Notice, Severity
    from hybridtls.report import Report

    now = _parse_now(args.now)
    passwords = _password_source(args.password_file)
    problems: list[InputProblem] = []
    subjects = read_certificate_paths(args.files, passwords, problems)
    intermediates = read_certificate_paths(args.intermediates, passwords, problems)
    trusted = read_certificate_paths(args.trust, passwords, problems)
    for problem in problems:
        _error(err, f"{problem.source}: {problem.message}", problem.hint)
    if not subjects:
        raise UsageError("no certificate was read from " + ", ".join(args.files))
    anchors = trust_anchors(trusted)
    notices: list[Notice] = []
    if args.fetch_aia:
        chains = build_chains_fetching(subjects, [*subjects, *intermediates], anchors, notices)
    else:
        chains = build_chains(subjects, [*subjects, *intermediates], anchors)
    evidence = EvidenceSet(files=tuple(args.files), certificate_files=tuple(subjects), chains=chains,
                           problems=tuple(problems), notices=tuple(notices))
    context = CheckContext(now=now, expected_names=tuple(args.name), expected_tls_names=tuple(args.tls_certificate_name))
    outcomes = tuple(run_checks(evidence, context, checks_for("cert")))
    fail_on = None if args.fail_on == "never" else Severity(args.fail_on)
    report = Report(command="cert", evidence=evidence, checks=checks_for("cert"), outcomes=outcomes, now=now, fail_on=fail_on)
    _write_report(report, args, out)
    return ExitStatus.FINDINGS if report.failed else ExitStatus.CLEAN


def _password_source(password_file: str | None):  # type: ignore[no-untyped-def]
    """Where a PFX password comes from: a file, the environment, or a prompt on a terminal. Never echoed or kept."""
    import os

    def ask(path: str) -> bytes | None:
        if password_file:
            try:
                with open(password_file, "rb") as handle:
                    return handle.readline().rstrip(b"\r\n")
            except OSError as exc:
                raise UsageError(f"cannot read --password-file {password_file}: {exc.strerror or exc}") from None
        if "HYBRIDTLS_PFX_PASSWORD" in os.environ:
            return os.environ["HYBRIDTLS_PFX_PASSWORD"].encode()
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            return getpass.getpass(f"Password for {path}: ").encode()
        return None

    return ask


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


def _write_report(report: Report, args: argparse.Namespace, out: TextIO) -> None:
    stream = out
    handle = None
    if args.output:
        _refuse_overwriting_evidence(args.output, report.evidence.files)
        try:
            handle = open(args.output, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        stream = handle
    try:
        if args.format == "json":
            from hybridtls.report.json import render_json

            stream.write(render_json(report))
        elif args.format == "html":
            from hybridtls.report.html import render_html

            stream.write(render_html(report))
        elif args.format == "markdown":
            from hybridtls.report.markdown import render_markdown

            stream.write(render_markdown(report))
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
