"""The check catalogue. Families are listed here explicitly; nothing registers itself on import."""

from __future__ import annotations

from collections.abc import Iterable

from hybridtls.checks import certificates, chain, connectors, errors, mailflow, roots, tlsnames, wire
from hybridtls.checks.base import Check, CheckContext, NotApplicable
from hybridtls.model import CheckOutcome, CheckStatus, EvidenceSet, Finding

CHECKS: tuple[Check, ...] = (*roots.CHECKS, *certificates.CHECKS, *chain.CHECKS, *tlsnames.CHECKS, *wire.CHECKS,
                            *connectors.CHECKS, *errors.CHECKS, *mailflow.CHECKS)
CHECKS_BY_ID = {check.id: check for check in CHECKS}
_FAMILIES_BY_COMMAND = {
    "check": CHECKS,
    "cert": (*chain.CHECKS, *tlsnames.CHECKS),
    "probe": (*wire.CHECKS, *chain.CHECKS, *tlsnames.CHECKS),
}


def checks_for(command: str) -> tuple[Check, ...]:
    """The checks a command runs, in catalogue order."""
    return _FAMILIES_BY_COMMAND[command]


def run_checks(evidence: EvidenceSet, ctx: CheckContext, checks: Iterable[Check] = CHECKS) -> list[CheckOutcome]:
    """Run every check; one that crashes is reported as crashed and the others still run."""
    outcomes = []
    for check in checks:
        try:
            findings: tuple[Finding, ...] = tuple(check.run(evidence, ctx))
        except NotApplicable as exc:
            outcomes.append(CheckOutcome(check_id=check.id, status=CheckStatus.NOT_APPLICABLE, reason=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others' findings
            outcomes.append(CheckOutcome(check_id=check.id, status=CheckStatus.CRASHED,
                                         reason=f"{type(exc).__name__}: {exc}"))
            continue
        status = CheckStatus.FIRED if findings else CheckStatus.PASSED
        outcomes.append(CheckOutcome(check_id=check.id, status=status, findings=findings))
    return outcomes


__all__ = ["CHECKS", "CHECKS_BY_ID", "Check", "CheckContext", "checks_for", "run_checks"]
