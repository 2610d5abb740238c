"""A probe report as a Nagios/Icinga plugin's output: one status line with performance data, the exit status.

``HYBRIDTLS CRITICAL - <summary> | 'days_left mx[192.0.2.1]:25'=12.5;30:;0: 'handshake mx[192.0.2.1]:25'=420ms;;;0``

The status is the worst finding's (error: CRITICAL, warning: WARNING), or the performance data's own thresholds
when they say worse (a leaf served that expires within EXPIRY_WARNING_DAYS: WARNING; expired: CRITICAL); UNKNOWN when no address answered, when
evidence could not be read, or when nothing was probed: a check that understood nothing never says OK. Lines after
the first are the plugin's long output, one finding each. Text from servers is made inert and never holds ``|``
(which starts the performance data); labels are quoted as the plugin guidelines say.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hybridtls.model import Severity
from hybridtls.references import EXPIRY_WARNING_DAYS
from hybridtls.report.escape import inert

if TYPE_CHECKING:
    from hybridtls.model import Finding, ProbeResult
    from hybridtls.report import Report

PREFIX = "HYBRIDTLS"
MAX_SUMMARY = 240  # characters of the first line before the performance data


class NagiosStatus(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass(frozen=True, slots=True)
class PluginOutput:
    status: NagiosStatus
    text: str  # the status line, then the long output; ends with a newline


def unknown(message: str) -> PluginOutput:
    """What a plugin says when it could not run (bad usage, unreadable input)."""
    return PluginOutput(NagiosStatus.UNKNOWN, f"{PREFIX} UNKNOWN - {_text(message)}\n")


def plugin_output(report: Report) -> PluginOutput:
    probes = report.evidence.probes
    findings = report.findings
    answered = [p for p in probes if p.outcome.connected]
    status = _status(findings)
    expiring = [(p, days) for p in probes if (days := _days_left(p, report)) is not None and days < EXPIRY_WARNING_DAYS]
    if expiring:  # the performance data's thresholds decide too: a probe has no finding for "expires soon"
        status = max(status, NagiosStatus.CRITICAL if any(days < 0 for _, days in expiring) else NagiosStatus.WARNING)
    if not answered or (report.evidence.problems and status is NagiosStatus.OK):
        status = NagiosStatus.UNKNOWN
    summary = _summary(report, findings, len(answered), len(probes), expiring)
    perfdata = " ".join(item for probe in probes for item in _perfdata(probe, report))
    line = f"{PREFIX} {status.name} - {summary}" + (f" | {perfdata}" if perfdata else "")
    long_output = [_text(f"{f.severity.value.upper()} {f.check_id} {f.subject}: {f.message}") for f in findings]
    long_output += [_text(f"problem: {p.source}: {p.message}") for p in report.evidence.problems]
    return PluginOutput(status, "\n".join([line, *long_output]) + "\n")


def _status(findings: list[Finding]) -> NagiosStatus:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return NagiosStatus.CRITICAL
    if Severity.WARNING in severities:
        return NagiosStatus.WARNING
    return NagiosStatus.OK


def _summary(report: Report, findings: list[Finding], answered: int, probed: int,
             expiring: list[tuple[ProbeResult, float]]) -> str:
    if not probed:
        return "nothing was probed"
    counts = report.counts
    parts = [f"{answered} of {probed} address{'es' if probed != 1 else ''} answered"]
    parts += [f"{counts[s.value]} {s.value}{'s' if counts[s.value] != 1 else ''}" for s in Severity if counts[s.value]]
    if report.evidence.problems:
        parts.append(f"{len(report.evidence.problems)} input problem(s)")
    if expiring:
        soonest, days = min(expiring, key=lambda item: item[1])
        parts.append(f"{soonest.label} serves a certificate that " +
                     (f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.0f} days"))
    text = ", ".join(parts)
    if findings:
        worst = findings[0]
        text += f"; {worst.check_id} {worst.subject}: {worst.message}"
    return _text(text, MAX_SUMMARY)


def _perfdata(probe: ProbeResult, report: Report) -> list[str]:
    items = []
    days = _days_left(probe, report)
    if days is not None:
        items.append(f"{perf_label('days_left ' + probe.label)}={days:.2f};{EXPIRY_WARNING_DAYS}:;0:")
    if probe.outcome.connected:
        items.append(f"{perf_label('handshake ' + probe.label)}={probe.elapsed_ms}ms;;;0")
    return items


def _days_left(probe: ProbeResult, report: Report) -> float | None:
    """Days from the report's now to the NotAfter of the leaf served; None when none was served."""
    return (probe.chain[0].not_after - report.now).total_seconds() / 86400 if probe.chain else None


def perf_label(label: str) -> str:
    """A performance-data label: quoted (single quotes, doubled inside) when it holds a space, '=' or a quote."""
    label = inert(label, single_line=True).replace("|", "/")
    if any(c in label for c in " ='"):
        return "'" + label.replace("'", "''") + "'"
    return label


def _text(text: str, limit: int | None = None) -> str:
    shown = inert(text, single_line=True).replace("|", "/")
    if limit is not None and len(shown) > limit:
        shown = shown[:limit - 1] + "…"
    return shown
