"""Evidence that shows one certificate twice: before and after a fix.

A transcript, a ticket or a forum post often holds ``Get-ExchangeCertificate`` run before a fix and again after it,
in the same file. The later state is what the servers are in now, so it is what is judged; what the earlier state
showed and the later one no longer does is reported as seen and fixed (a notice, with the fix that was made), never
as a fault still present, and never silently dropped.

Only records of one file are ordered (its lines are in the order they were printed); across files nothing says
which came first, so the same certificate in two files is two observations, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace

from hybridtls.checks import run_checks
from hybridtls.checks.base import Check, CheckContext
from hybridtls.model import (
    CheckOutcome,
    CheckStatus,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    Severity,
    Source,
)
from hybridtls.references import MAX_CITATIONS

_Key = tuple[str, str, str]


def run_checks_over_time(evidence: EvidenceSet, ctx: CheckContext, checks: Iterable[Check]) -> tuple[
        EvidenceSet, list[CheckOutcome]]:
    """The evidence as last seen and what the checks conclude over it, with the findings of the earlier states
    that no longer hold added as notices (``Finding.fixed_at`` says where the later state was read)."""
    checks = tuple(checks)
    latest, earliest, superseded, later_at = _states(evidence.certificates)
    if not later_at:
        return evidence, run_checks(evidence, ctx, checks)  # the common case: every certificate seen once a file
    now = replace(evidence, certificates=latest, superseded_certificates=superseded)
    outcomes = run_checks(now, ctx, checks)
    before = run_checks(replace(evidence, certificates=earliest), ctx, checks)
    standing = {finding.key for outcome in outcomes for finding in outcome.findings}
    fixed_by_check: dict[str, list[Finding]] = {}
    for outcome in before:
        for finding in outcome.findings:
            if finding.key not in standing:
                fixed_by_check.setdefault(outcome.check_id, []).append(_seen_and_fixed(finding, later_at))
    merged = []
    for outcome in outcomes:
        fixed = fixed_by_check.get(outcome.check_id)
        if fixed:
            outcome = replace(outcome, status=CheckStatus.FIRED, findings=(*outcome.findings, *fixed), reason="")
        merged.append(outcome)
    return now, merged


def _states(certificates: tuple[ExchangeCertificate, ...]) -> tuple[
        tuple[ExchangeCertificate, ...], tuple[ExchangeCertificate, ...], tuple[ExchangeCertificate, ...],
        dict[tuple[str, int | None], Source]]:
    """The certificates with each one seen again in the same file on the same server at its last state (each
    later listing updating the one before), the same at its first state, the listings superseded, and for each
    first state's lines where its last state was read."""
    seen: dict[_Key, list[ExchangeCertificate]] = {}
    for cert in certificates:
        key = _key(cert)
        if key is not None:
            seen.setdefault(key, []).append(cert)
    repeated = {key: states for key, states in seen.items() if len(states) > 1}
    if not repeated:
        return certificates, certificates, (), {}
    later_at: dict[tuple[str, int | None], Source] = {}
    latest: dict[int, ExchangeCertificate] = {}  # the last state of each, by the id of its last record
    drop_from_earliest: set[int] = set()
    for states in repeated.values():
        first = states[0]
        state = first
        for later in states[1:]:
            state = _updated(state, later)
        latest[id(states[-1])] = state
        drop_from_earliest.update(id(cert) for cert in states[1:])
        for line in (first.source.line, *first.field_lines.values()):
            later_at[(first.source.path, line)] = states[-1].source
    superseded = {id(cert) for states in repeated.values() for cert in states[:-1]}
    return (tuple(latest.get(id(c), c) for c in certificates if id(c) not in superseded),
            tuple(c for c in certificates if id(c) not in drop_from_earliest),
            tuple(c for c in certificates if id(c) in superseded), later_at)


# Properties read together: a later listing that gives one gives its partner too.
_PARTNERS = {"not_after": "not_after_readings", "not_before": "not_before_readings",
             "certificate_domains": "certificate_domains_truncated", "services": "services_truncated"}


def _updated(state: ExchangeCertificate, later: ExchangeCertificate) -> ExchangeCertificate:
    """The certificate as a later listing shows it: what it lists replaces what was known, and what it leaves out
    (``| fl RootCAType,Thumbprint`` after a full listing) stays as it was."""
    changes: dict[str, object] = {}
    for item in fields(ExchangeCertificate):
        name = item.name
        if name in ("source", "field_lines") or name in _PARTNERS.values():
            continue
        value = getattr(later, name)
        partner = _PARTNERS.get(name)
        if value not in (None, ()) or (partner is not None and getattr(later, partner) not in (None, False)):
            changes[name] = value
            if partner is not None:
                changes[partner] = getattr(later, partner)
    return replace(state, source=later.source, field_lines={**state.field_lines, **later.field_lines},
                   **changes)  # type: ignore[arg-type]


def _key(cert: ExchangeCertificate) -> _Key | None:
    identity = cert.identity_keys
    if not identity:
        return None
    return (cert.source.path, cert.server.key if cert.server else "", identity[0])


def _seen_and_fixed(finding: Finding, later_at: dict[tuple[str, int | None], Source]) -> Finding:
    fixed_at = next((later_at[(c.source.path, c.source.line)] for c in finding.evidence
                     if (c.source.path, c.source.line) in later_at), None)
    if fixed_at is None:
        fixed_at = next(iter(later_at.values()))
    later = Citation(source=fixed_at, text="read again here, and this no longer holds")
    cited = (*finding.evidence[:MAX_CITATIONS - 1], later)
    return replace(finding, severity=Severity.INFO, fixed_at=fixed_at, evidence=cited,
                   evidence_omitted=finding.evidence_omitted + len(finding.evidence) + 1 - len(cited),
                   subject=f"seen and fixed: {finding.subject}",
                   message=(f"Seen earlier in the evidence and fixed by the time it was read again ({fixed_at}): "
                            f"{finding.message} The later state is the one judged; the fix below is what was done."))
