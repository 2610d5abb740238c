"""The console report: verdict first, then each finding with its evidence, cause and fix.

Every string from evidence goes through ``inert`` and is printed as plain ``Text`` (never parsed as markup).
"""

from __future__ import annotations

import errno
import os
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.text import Text

from hybridtls.model import CertificateFile, Finding, InputProblem, Notice, Severity
from hybridtls.pki.tlsname import TlsCertificateName
from hybridtls.powershell import Script
from hybridtls.report.escape import inert, inert_lines
from hybridtls.report.summary import Cause, dated_words, explained_words, idle_count_words, idle_shown, summary
from hybridtls.report.views import (
    dane_line,
    files_counted,
    grouped_notes,
    mta_sts_rows,
    omitted_words,
    tls_name_words,
    understood_words,
)

if TYPE_CHECKING:
    from hybridtls.report import Report

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}
_LABEL = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "NOTICE"}


UNWRAPPED = 100_000  # the width of a report that is not hard-wrapped: nothing we print comes near it


class _PipeConsole(Console):
    """A closed pipe (``| head``) raises BrokenPipeError to the caller, which ends quietly with the exit status
    the findings decide (rich's own handling exits 1, turning a PASS into a failure)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def make_console(stream: TextIO, *, width: int | None = None, color: bool | None = None) -> Console:
    """A console for one report. ``width``: wrap at it; None: the terminal's width on a terminal, and no hard
    wrapping anywhere else (a file, a pipe, a ticket keep every path and command whole). ``color``: True always,
    False never, None on a terminal only (NO_COLOR and FORCE_COLOR honoured, as rich reads them)."""
    if width is None and not is_terminal(stream):
        width = UNWRAPPED

    def console(**colour: Any) -> Console:
        return _PipeConsole(file=stream, width=width, highlight=False, markup=False, emoji=False, soft_wrap=False,
                            **colour)

    if color is None:
        return console()
    if not color:
        return console(no_color=True, color_system=None)
    forced = console(force_terminal=True, no_color=False, color_system="auto")  # asked for: over NO_COLOR too
    # a terminal that calls itself dumb, or none at all: colour was asked for, so the basic 16 colours
    return forced if forced.color_system else console(force_terminal=True, no_color=False, color_system="standard")


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # closed or detached
        return False


def render_terminal(report: Report, console: Console, *, brief: bool = False, verbose: bool = False) -> None:
    """The summary first (verdict, root causes and their one-line fixes), then the details; ``brief``: the
    summary only; ``verbose``: every check that could not run, each with its reason."""
    if brief:
        _brief_header(report, console)
    elif report.command == "cert":
        _certificates(report, console)
    elif report.command == "probe":
        _probes(report, console)
    else:
        _header(report, console)
    _dated(report, console)
    if report.evidence.mta_sts:
        _mta_sts(report, console)
    _verdict(report, console)
    _summary(report, console)
    if brief:
        _checks_not_run(report, console, verbose)
        return
    if report.findings:
        console.print()
        console.print(Text("Details", style="bold underline"))
    for finding in report.findings:
        _finding(report, finding, console)
    _evidence_notes(report, console)
    _checks_not_run(report, console, verbose)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _header(report: Report, console: Console) -> None:
    evidence = report.evidence
    servers = report.servers
    summary = [_plural(files_counted(evidence), "file"), _plural(len(evidence.certificates), "certificate record")]
    if servers:
        summary[-1] += f" on {_plural(len(servers), 'server')} ({', '.join(inert(s, single_line=True) for s in servers)})"
    summary.append(_plural(len(evidence.trace_entries), "message trace entry").replace("entrys", "entries"))
    sessions = sum(s.sessions for s in evidence.smtp_summaries)
    if sessions:
        summary.append(_plural(sessions, "protocol-log session"))
    events = sum(count for t in evidence.tracking_summaries for _, count in t.events)
    if events:
        summary.append(_plural(events, "tracking-log event"))
    console.print(Text("hybridtls check: " + ", ".join(summary), style="bold"))
    console.print(Text(f"Dates judged as of {report.now:%Y-%m-%d %H:%M}", style="dim"))


def _verdict(report: Report, console: Console) -> None:
    evidence = report.evidence
    counts = report.counts
    verdict = Text()
    if report.failed:
        verdict.append("FAIL", style="bold white on red")
    else:
        verdict.append("PASS", style="bold white on green")
    verdict.append(f"  {_plural(counts['error'], 'error')}, {_plural(counts['warning'], 'warning')}, "
                   f"{_plural(counts['info'], 'notice')}")
    understood = understood_words(evidence)
    if understood:
        partial = evidence.coverage is not None and evidence.coverage.files_read < evidence.coverage.files
        verdict.append(f" \N{EM DASH} {understood}", style="bold red" if partial else "")
    elif evidence.problems:
        verdict.append(f"  {_plural(len(evidence.problems), 'problem')} with the input", style="bold red")
    if report.fail_on is not None:
        verdict.append(f"  (fails on {report.fail_on.value} and above)", style="dim")
    if report.partial is not None:
        verdict.append(f"  {report.partial.words}", style="bold red")
    console.print()
    console.print(verdict)


def _brief_header(report: Report, console: Console) -> None:
    if report.command == "check":
        _header(report, console)
        return
    what = (_plural(len(report.evidence.certificate_files), "certificate") if report.command == "cert" else
            f"{len(report.evidence.probes)} address(es)")
    console.print(Text(f"hybridtls {report.command}: {what}", style="bold"))
    console.print(Text(f"Dates judged as of {report.now:%Y-%m-%d %H:%M}", style="dim"))


def _dated(report: Report, console: Console) -> None:
    words = dated_words(report)
    if words:
        _indented(console, Text(words, style="bold yellow"), 0)


def _cause_lines(cause: Cause, number: int | None, width: int) -> list[Text]:
    """Two or three lines: what is wrong, where, the one command (never wrapped); then what it explains."""
    finding = cause.finding
    head = Text(f"{number}. " if number is not None else "   ")
    head.append(f"{_LABEL[finding.severity]} ", style=_STYLE[finding.severity])
    head.append(f"{finding.check_id}  ", style="bold")
    head.append(cause.what, style="bold")
    title = _wrapped(head, 0, width - 3)
    lines = [title[0], *(Text("   ").append_text(line) for line in title[1:]),
             *_wrapped(Text("where: " + inert(finding.subject, single_line=True)), 3, width)]
    if finding.context:
        lines.extend(_wrapped(Text(inert(finding.context, single_line=True), style="dim"), 3, width))
    elif cause.command:
        fix = Text("fix:   ", style="bold")
        fix.append(inert(cause.command, single_line=True), style="green")
        lines.append(Text("   ").append_text(fix))
    said = explained_words(cause)
    if said:
        lines.extend(_wrapped(Text(inert(said, single_line=True), style="dim"), 3, width))
    return lines


def _summary(report: Report, console: Console) -> None:
    first = summary(report)
    lines: list[Text] = []
    if first.causes:
        lines += [Text(""), Text("Root causes, most important first", style="bold")]
        for number, cause in enumerate(first.causes, 1):
            lines += _cause_lines(cause, number, console.width)
    if first.context:
        lines += [Text(""), Text("Context, not causes", style="bold")]
        for cause in first.context:
            lines += _cause_lines(cause, None, console.width)
    if lines:
        _print_lines(console, lines)


def _certificates(report: Report, console: Console) -> None:
    files = report.evidence.certificate_files
    console.print(Text(f"hybridtls cert: {_plural(len(files), 'certificate')}", style="bold"))
    console.print(Text(f"Validity judged as of {report.now:%Y-%m-%d %H:%M} (dates below are UTC)", style="dim"))
    for cert in files:
        console.print()
        console.print(Text(inert(cert.label, single_line=True), style="bold"))
        rows = [
            ("Subject", cert.subject), ("Issuer", cert.issuer), ("Thumbprint", cert.thumbprint),
            ("SerialNumber", cert.serial_number), ("CertificateDomains", ", ".join(cert.certificate_domains)),
            ("NotBefore", f"{cert.not_before:%Y-%m-%d %H:%M:%S}"), ("NotAfter", f"{cert.not_after:%Y-%m-%d %H:%M:%S}"),
            ("PublicKeySize", f"{cert.public_key_size} ({cert.public_key_algorithm})"),
            ("SignatureAlgorithm", cert.signature_algorithm), ("IsSelfSigned", str(cert.is_self_signed)),
            ("KeyUsage", ", ".join(cert.key_usage) or "(none)"),
            ("EnhancedKeyUsageList",
             ", ".join(f"{name} ({oid})" for name, oid in cert.extended_key_usage) or "(none: any purpose)"),
        ]
        if cert.has_private_key is not None:
            rows.append(("HasPrivateKey", str(cert.has_private_key)))
        if cert.ca_issuers:
            rows.append(("caIssuers", ", ".join(cert.ca_issuers)))
        rows.append(("TlsCertificateName", tls_name_words(cert)))
        rows += [("Read leniently" if i == 0 else "", note) for i, note in enumerate(cert.lenient)]
        for label, value in rows:
            line = Text(f"  {label:<21}", style="bold")
            line.append(inert(value, single_line=True))
            console.print(line, soft_wrap=True)
        if not cert.is_ca:
            _connector_commands(cert, console)
    for chain in report.evidence.chains:
        console.print()
        console.print(Text(f"Chain of {inert(chain.leaf.subject or chain.leaf.thumbprint, single_line=True)} "
                           f"(as Exchange Online would build it, without fetching)", style="bold"))
        for depth, link in enumerate(chain.path):
            origin = (chain.anchor_origin or "") if depth == len(chain.path) - 1 and chain.end.value == "trusted" \
                else ("supplied" if depth else "the certificate")
            _indented(console, Text(f"{depth}  {inert(link.subject, single_line=True)}  [{origin}]"), 2)
        if chain.end.value == "missing_issuer":
            _indented(console, Text(f"?  {inert(chain.missing_issuer or '', single_line=True)}  [not supplied]",
                                    style="red"), 2)
        elif chain.end.value == "untrusted_root":
            _indented(console, Text("   (ends at a root that is not trusted)", style="red"), 2)
        for note in chain.unchecked_signatures:
            _indented(console, Text(f"!  {inert(note, single_line=True)}", style="yellow"), 2)


def _probes(report: Report, console: Console) -> None:
    probes = report.evidence.probes
    names = {p.host for p in probes}
    console.print(Text(f"hybridtls probe: {len(probes)} address(es) of {_plural(len(names), 'name')}", style="bold"))
    console.print(Text(f"Validity judged as of {report.now:%Y-%m-%d %H:%M}", style="dim"))
    for probe in probes:
        console.print()
        style = "bold green" if probe.outcome.value == "ok" else "bold red"
        line = Text(inert(probe.label, single_line=True) + "  ", style="bold")
        line.append(probe.outcome.value.replace("_", " "), style=style)
        line.append(f"  {probe.elapsed_ms} ms", style="dim")
        console.print(line)
        if probe.tls_version:
            _indented(console, Text(f"{probe.tls_version}  {inert(probe.cipher or '', single_line=True)}"), 2)
        if probe.versions_accepted:
            sweep = ", ".join(f"{v} {'yes' if ok else 'no' if ok is False else '?'}" for v, ok in probe.versions_accepted)
            _indented(console, Text(f"accepts: {sweep}", style="dim"), 2)
        for depth, cert in enumerate(probe.chain):
            _indented(console, Text(f"{depth}  {inert(cert.subject, single_line=True)}  (thumbprint {cert.thumbprint}, "
                                    f"until {cert.not_after:%Y-%m-%d})"), 2)
        if probe.outcome.value != "ok":
            _indented(console, Text(inert(probe.detail, single_line=True), style="red"), 2)
        if probe.dane is not None:
            style = "red" if probe.dane.result else "dim"
            _indented(console, Text(inert(dane_line(probe), single_line=True), style=style), 2)


def _mta_sts(report: Report, console: Console) -> None:
    for row in mta_sts_rows(report):
        console.print()
        line = Text(f"MTA-STS {inert(row.domain, single_line=True)}  ", style="bold")
        line.append(row.verdict, style="bold green" if row.ok else "bold red")
        console.print(line)
        for label, value in (("record", row.record), ("policy", row.policy), ("policy host", row.host),
                             ("MX", row.mx), ("TLS-RPT", row.tlsrpt)):
            if value:
                _indented(console, Text(f"{label}: {inert(value, single_line=True)}"), 2)


def _connector_commands(cert: CertificateFile, console: Console) -> None:
    script = Script()
    if cert.tls_certificate_name is None:
        script.add(f"# <TlsCertificateName>: the certificate's {'subject' if not cert.subject else 'issuer'} is "
                   "empty, so no value can name it; use a certificate with a subject (and issuer)")
        name = "<TlsCertificateName>"
    else:
        name = script.value(str(TlsCertificateName(cert.issuer, cert.subject)), "<TlsCertificateName>",
                            "certificate's issuer or subject")
    script.add(f"Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName {name}",
               f"Set-ReceiveConnector -Identity '<ServerName>\\Default Frontend <ServerName>' -TlsCertificateName {name}",
               f"Set-HybridConfiguration -TlsCertificateName {name}")
    console.print(Text("  Use it in Exchange (Exchange Management Shell):", style="underline"))
    for command in inert_lines(str(script)):
        console.print(Text("    " + command, style="green"), soft_wrap=True)


def _wrapped(text: Text, indent: int, width: int) -> list[Text]:
    """Wrap to the width; wrapped lines keep the indent and carry no trailing spaces."""
    lines: list[Text] = []
    for paragraph in text.split("\n"):
        plain = paragraph.plain
        if not plain:
            lines.append(Text(""))
            continue
        offset = 0
        for line in textwrap.wrap(plain, width=max(20, width - indent), break_long_words=True,
                                  break_on_hyphens=False, drop_whitespace=True):
            start = plain.index(line, offset)
            offset = start + len(line)
            piece = Text(" " * indent)
            piece.append_text(paragraph[start:offset])
            lines.append(piece)
    return lines


def _print_lines(console: Console, lines: list[Text]) -> None:
    """One print for many lines: rich's cost is per call. Lines arrive wrapped; code lines must not be re-wrapped."""
    console.print(Text("\n").join(lines), soft_wrap=True)


def _indented(console: Console, text: Text, indent: int) -> None:
    _print_lines(console, _wrapped(text, indent, console.width))


def _finding(report: Report, finding: Finding, console: Console) -> None:
    check = report.check(finding.check_id)
    width = console.width
    title = Text()
    title.append(f"{_LABEL[finding.severity]} ", style=_STYLE[finding.severity])
    title.append(f"{finding.check_id}  ", style="bold")
    title.append(check.title, style="bold")
    lines = [Text(""), *_wrapped(title, 0, width),
             *_wrapped(Text(inert(finding.subject, single_line=True), style="bold"), 2, width),
             *_wrapped(Text(inert(finding.message, single_line=True)), 2, width)]
    if finding.evidence:
        lines.append(Text("  Evidence", style="underline"))
        for citation in finding.evidence:
            line = Text(inert(str(citation.source), single_line=True), style="cyan")
            line.append("  " + inert(citation.text, single_line=True), style="")
            lines.extend(_wrapped(line, 4, width))
        if finding.evidence_omitted:
            lines.extend(_wrapped(Text(omitted_words(finding), style="dim"), 4, width))
    lines.append(Text("  Why", style="underline"))
    lines.extend(_wrapped(Text(check.explanation, style="dim"), 4, width))
    lines.append(Text("  Fix", style="underline"))
    lines.extend(Text("    " + code_line, style="green") for code_line in inert_lines(finding.remediation))
    _print_lines(console, lines)


def _notes(console: Console, title: str, style: str, notes: Sequence[Notice | InputProblem]) -> None:
    if not notes:
        return
    console.print()
    console.print(Text(title, style=style))
    for note in grouped_notes(notes):
        _indented(console, Text(f"{inert(note.where, single_line=True)}: {inert(note.message, single_line=True)}"), 2)
        if note.hint:
            _indented(console, Text(f"hint: {inert(note.hint, single_line=True)}", style="dim"), 4)


def _evidence_notes(report: Report, console: Console) -> None:
    evidence = report.evidence
    _notes(console, "Files that could not be read", "bold red", evidence.problems)
    _notes(console, "Notes on the evidence", "bold", evidence.notices)
    if evidence.skipped:
        console.print()
        console.print(Text(f"Skipped {_plural(len(evidence.skipped), 'record')} of kinds hybridtls does not read "
                           "yet:", style="bold"))
        for skipped in evidence.skipped[:10]:
            props = ", ".join(skipped.properties[:6]) + (", ..." if len(skipped.properties) > 6 else "")
            console.print(Text(f"  {inert(str(skipped.source), single_line=True)}: "
                               f"{inert(props, single_line=True)}", style="dim"))
        if len(evidence.skipped) > 10:
            console.print(Text(f"  ... and {len(evidence.skipped) - 10} more", style="dim"))


def _checks_not_run(report: Report, console: Console, verbose: bool) -> None:
    title, idle, not_listed = idle_shown(report, verbose)
    if idle:
        console.print()
        console.print(Text(f"{title} on this evidence", style="bold"))
    for word, reason, ids in idle:
        style = "bold red" if word == "crashed" else "dim"
        _indented(console, Text(f"{', '.join(ids)} ({word}): {inert(reason, single_line=True)}", style=style), 2)
    if not_listed:
        console.print()
        _indented(console, Text(idle_count_words(not_listed), style="dim"), 0)
