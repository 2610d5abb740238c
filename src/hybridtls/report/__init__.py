"""Findings to what people read. ``Report`` is what every writer is given, and what the Python API returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hybridtls.checks import Check
from hybridtls.model import CheckOutcome, EvidenceSet, Finding, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """One run: what was read, the checks that ran over it (catalogue order) and what each concluded."""

    command: str  # "check", "cert" or "probe"
    evidence: EvidenceSet
    checks: tuple[Check, ...]
    outcomes: tuple[CheckOutcome, ...]
    now: datetime
    fail_on: Severity | None  # None: never fail on findings

    @property
    def findings(self) -> list[Finding]:
        """Most severe first, then in catalogue order."""
        order = {check.id: index for index, check in enumerate(self.checks)}
        found = [f for outcome in self.outcomes for f in outcome.findings]
        return sorted(found, key=lambda f: (-f.severity.rank, order.get(f.check_id, len(order))))

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
        """Findings at or above --fail-on, or evidence that could not be read."""
        if self.evidence.problems:
            return True
        if self.fail_on is None:
            return False
        return any(f.severity.rank >= self.fail_on.rank for f in self.findings)

    @property
    def servers(self) -> list[str]:
        names: dict[str, str] = {}
        for cert in self.evidence.certificates:
            if cert.server:
                names.setdefault(cert.server.key, cert.server.name)
        return sorted(names.values(), key=str.casefold)
