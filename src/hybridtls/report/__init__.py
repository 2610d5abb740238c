"""Findings to what people read. ``Report`` is what every writer is given, and what the Python API returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from hybridtls.model import CheckOutcome, EvidenceSet, Finding, Interruption, Severity

if TYPE_CHECKING:
    from hybridtls.checks import Check
    from hybridtls.planning.model import ChangePlan
    from hybridtls.report.summary import Summary

def fails(severities: Iterable[Severity], fail_on: Severity | None, evidence: EvidenceSet) -> bool:
    """The one rule for --fail-on: evidence that could not be read fails, then any severity at or above it."""
    if evidence.problems:
        return True
    return fail_on is not None and any(severity.rank >= fail_on.rank for severity in severities)


class Rendered:
    """The verdict and every format, for a run's report and a change plan alike."""

    __slots__ = ()

    @property
    def failed(self) -> bool:
        raise NotImplementedError

    def write(self, fmt: str, stream: TextIO, *, width: int | None = None, color: bool | None = None,
              brief: bool = False, verbose: bool = False) -> None:
        """Write this result to ``stream`` as ``fmt`` (one of FORMATS); width and colour apply to the terminal;
        ``brief``: the summary only; ``verbose``: each check that could not run, listed."""
        raise NotImplementedError

    @property
    def verdict(self) -> str:
        """"fail" or "pass", as the exit status."""
        return "fail" if self.failed else "pass"

    def to_json(self) -> str:
        """The whole run as one JSON document (``schema_version``, described by ``report/schema/``)."""
        return self._rendered("json")

    def to_markdown(self) -> str:
        return self._rendered("markdown")

    def to_html(self) -> str:
        return self._rendered("html")

    def _rendered(self, fmt: str) -> str:
        import io

        buffer = io.StringIO()
        self.write(fmt, buffer, width=100, color=False)
        return buffer.getvalue()


@dataclass(frozen=True, slots=True, kw_only=True)
class Report(Rendered):
    """One run: what was read, the checks that ran over it (catalogue order) and what each concluded."""

    command: str  # "check", "cert" or "probe"
    evidence: EvidenceSet
    checks: tuple[Check, ...]
    outcomes: tuple[CheckOutcome, ...]
    now: datetime
    fail_on: Severity | None  # None: never fail on findings
    evidence_date: datetime | None = None  # the evidence's own date, when long before ``now`` (said at the top)
    partial: Interruption | None = None  # the run was interrupted: this report covers only what was finished

    @property
    def findings(self) -> list[Finding]:
        """Most severe first, then in catalogue order."""
        order = {check.id: index for index, check in enumerate(self.checks)}
        found = [f for outcome in self.outcomes for f in outcome.findings]
        return sorted(found, key=lambda f: (-f.severity.rank, order.get(f.check_id, len(order))))

    def write(self, fmt: str, stream: TextIO, *, width: int | None = None, color: bool | None = None,
              brief: bool = False, verbose: bool = False) -> None:
        from hybridtls.report.render import render_report

        render_report(self, fmt, stream, width=width, color=color, brief=brief, verbose=verbose)

    @property
    def summary(self) -> Summary:
        """The first screen: the verdict, the root causes ranked with their one-line fixes, what is context."""
        from hybridtls.report.summary import summary

        return summary(self)

    def check(self, check_id: str) -> Check:
        """The declaration of a check this report ran."""
        return next(check for check in self.checks if check.id == check_id)

    @property
    def counts(self) -> dict[str, int]:
        counts = {severity.value: 0 for severity in Severity}
        for finding in self.findings:
            counts[finding.severity.value] += 1
        return counts

    @property
    def failed(self) -> bool:
        """Findings at or above --fail-on, evidence that could not be read, or a run interrupted (never a PASS on
        part of the evidence)."""
        return self.partial is not None or fails((f.severity for f in self.findings), self.fail_on, self.evidence)


    @property
    def servers(self) -> list[str]:
        names: dict[str, str] = {}
        for cert in self.evidence.certificates:
            if cert.server:
                names.setdefault(cert.server.key, cert.server.name)
        return sorted(names.values(), key=str.casefold)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan(Rendered):
    """One ``plan`` run: the change planned and the evidence it was planned from."""

    plan: ChangePlan
    evidence: EvidenceSet
    now: datetime
    fail_on: Severity | None

    def write(self, fmt: str, stream: TextIO, *, width: int | None = None, color: bool | None = None,
              brief: bool = False, verbose: bool = False) -> None:
        """A plan has no summary of causes: ``brief`` and ``verbose`` do not apply (no command offers them)."""
        from hybridtls.report.render import render_plan

        render_plan(self, fmt, stream, width=width, color=color)

    @property
    def failed(self) -> bool:
        """Risks at or above --fail-on, or evidence that could not be read."""
        return fails((risk.severity for risk in self.plan.risks), self.fail_on, self.evidence)

