"""The check catalogue. Families are listed here explicitly; nothing registers itself on import."""

from __future__ import annotations

from collections.abc import Iterable

from hybridtls.checks import (
    certificates,
    chain,
    configured,
    connectors,
    dane,
    errors,
    events,
    logs,
    mailflow,
    mtasts,
    queues,
    roots,
    rotation,
    stores,
    tenants,
    tlsnames,
    wire,
)
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, Needs, NotApplicable
from hybridtls.model import CheckOutcome, CheckStatus, EvidenceSet, Finding, NotJudged

FAMILIES: tuple[Family, ...] = (roots.FAMILY, certificates.FAMILY, chain.FAMILY, tlsnames.FAMILY, wire.FAMILY,
                                dane.FAMILY, mtasts.FAMILY, connectors.FAMILY, errors.FAMILY, queues.FAMILY,
                                mailflow.FAMILY, configured.FAMILY, events.FAMILY, logs.FAMILY, stores.FAMILY,
                                rotation.FAMILY, tenants.FAMILY)
CHECKS: tuple[Check, ...] = tuple(check for family in FAMILIES for check in family.checks)
CHECKS_BY_ID = {check.id: check for check in CHECKS}


def checks_for(command: str | Command) -> tuple[Check, ...]:
    """The checks a command runs, in catalogue order: those of every family that declares the command."""
    wanted = Command(command)
    return tuple(check for family in FAMILIES if wanted in family.commands for check in family.checks)


def run_checks(evidence: EvidenceSet, ctx: CheckContext, checks: Iterable[Check] = CHECKS) -> list[CheckOutcome]:
    """Run every check whose declared needs the evidence meets (the others are not applicable, saying what is
    missing); one that crashes is reported as crashed and the others still run. What a check could not judge is
    its outcome's reason; a check that found nothing but could not judge everything is not applicable."""
    outcomes = []
    for check in checks:
        try:
            missing = check.missing(evidence, ctx)
            if missing:
                raise NotApplicable("; ".join(need.reason for need in missing))
            concluded = tuple(check.run(evidence, ctx))
        except NotApplicable as exc:
            outcomes.append(CheckOutcome(check_id=check.id, status=CheckStatus.NOT_APPLICABLE, reason=str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others' findings
            outcomes.append(CheckOutcome(check_id=check.id, status=CheckStatus.CRASHED,
                                         reason=f"{type(exc).__name__}: {exc}"))
            continue
        findings = tuple(item for item in concluded if isinstance(item, Finding))
        not_judged = [item for item in concluded if isinstance(item, NotJudged)]
        # what a check could not judge is said; with nothing found it did not pass, it could not tell
        status = (CheckStatus.FIRED if findings else CheckStatus.NOT_APPLICABLE if not_judged
                  else CheckStatus.PASSED)
        outcomes.append(CheckOutcome(check_id=check.id, status=status, findings=findings,
                                     reason=_not_judged(not_judged)))
    return outcomes


MAX_NOT_JUDGED_LISTED = 5


def _not_judged(items: list[NotJudged]) -> str:
    if not items:
        return ""
    listed = "; ".join(str(item) for item in items[:MAX_NOT_JUDGED_LISTED])
    more = len(items) - MAX_NOT_JUDGED_LISTED
    return "could not judge " + listed + (f"; and {more} more" if more > 0 else "")


__all__ = ["CHECKS", "CHECKS_BY_ID", "FAMILIES", "Check", "CheckContext", "Command", "Family", "Need", "Needs",
           "NotApplicable", "checks_for", "run_checks"]
