"""The report as Markdown for tickets: the same content as the HTML report, in plain tables.

Markdown renderers pass HTML through, so evidence text is kept from opening any: a backslash goes before each
character that would start markup there (a ``<`` that opens a tag or an autolink, an ``&`` that opens an entity,
emphasis, code, links, tables), and nowhere else, so the plain text reads as typed (``->``, not ``-&gt;``).
PowerShell goes into fenced blocks whose fence is longer than any backtick run inside.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hybridtls.model import InputProblem, Notice
from hybridtls.report.escape import inert
from hybridtls.report.summary import Cause, dated_words, explained_words, idle_count_words, idle_shown, summary
from hybridtls.report.views import (
    certificate_matrix,
    certificate_rows,
    grouped_notes,
    mta_sts_rows,
    omitted_words,
    probe_rows,
    trace_timeline,
    understood_words,
)

if TYPE_CHECKING:
    from hybridtls.report import Report

# Enough to keep evidence from becoming emphasis, code, links, tables or strike-through; the rest reads as typed.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# Where Markdown would pass HTML through: "<" before a tag name, "/", "!" or "?" (a tag, comment, declaration,
# autolink), "&" before an entity's name or number and ";". Escaped with a backslash, each reads as itself.
_HTML_OPENING = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)")
_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])")


def text(value: object) -> str:
    """Evidence as inert Markdown text: no HTML, no entities, no emphasis, no links, one line."""
    # leading spaces go (Markdown drops them, and four would open a code block)
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", inert(str(value), single_line=True).lstrip(" "))
    escaped = _HTML_OPENING.sub(lambda match: "\\" + match.group(), escaped)
    if _LIST_NUMBER.match(escaped):  # "1. " or "1) " would open a numbered list
        return _LIST_NUMBER.sub(r"\1\\\2", escaped, count=1)
    return "\\" + escaped if escaped[:1] in ("#", "+", "-", "=", ">") else escaped


def _marked(value: str, differs: bool) -> str:
    """A matrix value, in bold when it is the one that differs (only that value, not the whole cell)."""
    return f"**{value}**" if differs else value


def code_block(body: str, language: str = "powershell") -> str:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{inert(body)}\n{fence}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cause(cause: Cause, heading: str) -> list[str]:
    finding = cause.finding
    out = ["", f"### {heading}{finding.severity.value.upper()} {finding.check_id}: {text(cause.what)}", "",
           f"Where: **{text(finding.subject)}**"]
    if finding.context:
        out += ["", text(finding.context)]
    elif cause.command:
        out += ["", code_block(cause.command)]
    said = explained_words(cause)
    if said:
        out += ["", text(said[:1].upper() + said[1:])]
    return out


def _summary(report: Report) -> list[str]:
    first = summary(report)
    out: list[str] = []
    if first.causes:
        out += ["", "## Root causes, most important first"]
        for number, cause in enumerate(first.causes, 1):
            out += _cause(cause, f"{number}. ")
    if first.context:
        out += ["", "## Context, not causes"]
        for cause in first.context:
            out += _cause(cause, "")
    return out


def _idle(report: Report, verbose: bool) -> list[str]:
    title, idle, not_listed = idle_shown(report, verbose)
    out = []
    if idle:
        out += ["", f"## {title}", ""]
        said = {check_id: (word, reason) for word, reason, ids in idle for check_id in ids}
        out += [f"- {o.check_id} ({said[o.check_id][0]}): {text(said[o.check_id][1])}" for o in report.outcomes
                if o.check_id in said]
    if not_listed:
        out += ["", f"*{text(idle_count_words(not_listed))}.*"]
    return out


def render_markdown(report: Report, *, brief: bool = False, verbose: bool = False) -> str:
    counts = report.counts
    out = [f"# hybridtls {report.command}: {'FAIL' if report.failed else 'PASS'}", ""]
    if report.evidence_date:
        out += [f"**{text(dated_words(report))}**", ""]
    out.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} notice(s); "
               f"dates judged as of {report.now:%Y-%m-%d %H:%M}.")
    understood = understood_words(report.evidence)
    if understood:
        out.append(text(understood.capitalize()) + ".")
    elif report.evidence.problems:
        out.append(f"{len(report.evidence.problems)} problem(s) with the input.")
    if report.partial is not None:
        out.append(f"**{text(report.partial.words).capitalize()}.**")
    out += _summary(report)
    if brief:
        return "\n".join([*out, *_idle(report, False)]) + "\n"
    if report.findings:
        out += ["", "## Details"]
    for number, finding in enumerate(report.findings, 1):
        check = report.check(finding.check_id)
        out += ["", f"### {number}. {finding.severity.value.upper()} {finding.check_id}: {text(check.title)}", "",
                f"**{text(finding.subject)}**", "", text(finding.message)]
        if finding.evidence:
            out += ["", _table(["Evidence", "What it says"],
                               [[text(c.source), text(c.text)] for c in finding.evidence])]
        if finding.evidence_omitted:
            out += ["", f"*{text(omitted_words(finding))}*"]
        out += ["", f"*Why:* {text(check.explanation)}", "", "*Fix:*", "", code_block(finding.remediation)]
    matrix = certificate_matrix(report.evidence, report.now)
    if matrix:
        rows = []
        for row in matrix.rows:
            cells = [("**missing**" if c.state == "missing" else "") if c.state in ("missing", "absent") else
                     f"{_marked(text(c.root_ca_type), c.root_odd)}, {_marked(text(c.services), c.services_odd)}"
                     for c in row.cells]
            rows.append([text(row.certificate), text(row.not_after), *cells])
        out += ["", "## Certificates on each server", "",
                _table(["Certificate", "Expires", *[text(s) for s in matrix.servers]], rows)]
    certificates = certificate_rows(report.evidence)
    if certificates:
        out += ["", "## Certificate files", "",
                _table(["File", "Subject", "Issuer", "Thumbprint", "NotAfter (UTC)", "TlsCertificateName",
                        "Read leniently"],
                       [[text(c.label), text(c.subject), text(c.issuer), text(c.thumbprint), text(c.not_after),
                         text(c.tls_certificate_name), text(c.lenient)] for c in certificates])]
    probes = probe_rows(report)
    if probes:
        out += ["", "## What each address presented", "",
                _table(["Address", "Outcome", "TLS", "Presented certificate", "Chain as served", "Verdict", "DANE"],
                       [[text(p.label), text(p.outcome), text(p.tls), text(p.presented), text(p.chain), text(p.verdict),
                         text(p.dane)] for p in probes])]
    policies = mta_sts_rows(report)
    if policies:
        out += ["", "## MTA-STS and TLS-RPT", "",
                _table(["Domain", "MTA-STS record", "Policy", "Policy host certificate", "MX (matching pattern)",
                        "TLS-RPT", "Verdict"],
                       [[text(p.domain), text(p.record), text(p.policy), text(p.host), text(p.mx), text(p.tlsrpt),
                         text(p.verdict)] for p in policies])]
    timeline = trace_timeline(report.evidence)
    if timeline:
        rows = [[text(bar.start), *[str(next((s.count for s in bar.segments if s.status == status), 0))
                                    for status in timeline.statuses]] for bar in timeline.bars if bar.segments]
        out += ["", f"## Message trace per {timeline.bin_label}", "",
                _table(["From", *timeline.statuses], rows)]
        out += [f"- {text(m.label)}" for m in timeline.markers]
    notes: list[InputProblem | Notice] = [*report.evidence.problems, *report.evidence.notices]
    if notes:
        out += ["", "## Notes on the evidence", ""]
        out += [f"- {text(n.where)}: {text(n.message)}" + (f" ({text(n.hint)})" if n.hint else "")
                for n in grouped_notes(notes)]
    out += _idle(report, verbose)
    return "\n".join(out) + "\n"
