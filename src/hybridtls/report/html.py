"""The single-file HTML report: no network fetches, no scripts (a Content-Security-Policy forbids them), every
evidence string escaped by Jinja2's autoescaping, readable on screen and on paper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hybridtls._version import __version__
from hybridtls.checks import Check
from hybridtls.model import Finding
from hybridtls.report.escape import inert, inert_lines
from hybridtls.report.summary import dated_words, idle_count_words
from hybridtls.report.summary import summary as first_screen
from hybridtls.report.views import (
    certificate_matrix,
    certificate_rows,
    files_counted,
    grouped_notes,
    idle_checks,
    mta_sts_rows,
    omitted_words,
    probe_rows,
    trace_timeline,
    understood_words,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from hybridtls.report import Report

COLOURS = {"Delivered": "#12b76a", "Pending": "#f79009", "GettingStatus": "#84caff", "Failed": "#d92d20",
           "Other": "#98a2b3"}
_LABEL = {"error": "Error", "warning": "Warning", "info": "Notice"}


@dataclass(frozen=True)
class _Reference:
    text: str
    url: str | None  # only http(s) references become links


@dataclass(frozen=True)
class _Item:
    finding: Finding
    check: Check
    label: str
    references: tuple[_Reference, ...]
    omitted: str


def _reference(text: str) -> _Reference:
    return _Reference(text, text if urlsplit(text).scheme in ("http", "https") else None)


def environment() -> Environment:
    """Every ``{{ value }}`` is escaped for HTML (autoescape) and shown on one line with nothing live or hidden
    in it (``finalize``), in text and in attributes alike; multi-line blocks go through the ``lines`` filter."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup, escape

    def one_line(value: object) -> object:
        return inert(value, single_line=True) if isinstance(value, str) and not isinstance(value, Markup) else value

    def lines(value: str) -> Markup:
        return Markup("\n").join(escape(line) for line in inert_lines(value))

    env = Environment(loader=PackageLoader("hybridtls.report", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                      lstrip_blocks=True, finalize=one_line)
    env.filters["lines"] = lines
    return env


def render_html(report: Report, *, brief: bool = False, verbose: bool = False) -> str:
    items = [_Item(f, report.check(f.check_id), _LABEL[f.severity.value],
                   tuple(_reference(r) for r in report.check(f.check_id).references), omitted_words(f))
             for f in report.findings]
    idle_title, idle = idle_checks(report)
    evidence = report.evidence
    summary = ", ".join(part for part in (
        f"{files_counted(evidence)} file(s)" if report.command == "check" else "",
        f"{len(evidence.certificates)} certificate record(s) on {len(report.servers)} server(s)" if evidence.certificates else "",
        f"{len(evidence.trace_entries)} message trace entries" if evidence.trace_entries else "",
        f"{len(evidence.certificate_files)} certificate file(s)" if evidence.certificate_files else "",
        f"{len(evidence.probes)} address(es) probed" if evidence.probes else "",
        f"{sum(s.sessions for s in evidence.smtp_summaries)} protocol-log session(s)" if evidence.smtp_summaries else "",
        f"{sum(n for t in evidence.tracking_summaries for _, n in t.events)} tracking-log event(s)"
        if evidence.tracking_summaries else "",
    ) if part)
    template = environment().get_template("report.html.j2")
    return str(template.render(
        report=report, version=__version__, summary=summary, verdict_word="FAIL" if report.failed else "PASS",
        understood=understood_words(report.evidence),
        first=first_screen(report), dated=dated_words(report), labels=_LABEL, brief=brief, verbose=verbose,
        idle_listed=[(", ".join(ids) + f" ({word})", reason) for word, reason, ids in idle if word != "not applicable"],
        idle_count_words=idle_count_words(sum(len(ids) for word, _, ids in idle if word == "not applicable")),
        problems=grouped_notes(evidence.problems), notices=grouped_notes(evidence.notices),
        findings=items, matrix=certificate_matrix(evidence, report.now), probes=probe_rows(report), mta_sts=mta_sts_rows(report),
        certificate_files=certificate_rows(evidence), timeline=trace_timeline(evidence), colours=COLOURS,
        idle=[(", ".join(ids) + f" ({word})", reason) for word, reason, ids in idle if word == "not applicable"],
        idle_title=idle_title,
    ))
