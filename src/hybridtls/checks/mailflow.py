"""What Exchange Online's message trace says about mail that is not arriving, and when it started."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from hybridtls import references as refs
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.estate import about, group_certificates, server_name
from hybridtls.checks.needs import CA_NOT_BEFORE, MESSAGE_TRACE
from hybridtls.model import (
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    RootCAType,
    Severity,
    TraceEntry,
    TraceStatus,
)

UNDELIVERED = (TraceStatus.PENDING, TraceStatus.FAILED, TraceStatus.GETTING_STATUS)
_CORRELATION_WINDOW = timedelta(days=refs.CORRELATION_WINDOW_DAYS)
# Message-IDs minted by Exchange Online mailboxes.
_EXO_MESSAGE_ID = re.compile(r"@[\w.\-]+\.(?:prod\.outlook\.com|prod\.exchangelabs\.com|outlook\.office365\.com)>?$",
                             re.I)


def _domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip(">").casefold()


def _direction(entry: TraceEntry) -> str | None:
    """Office 365 -> on-premises when a cloud mailbox's message to its own domain is not delivered in the cloud."""
    from_cloud = bool(entry.message_id and _EXO_MESSAGE_ID.search(entry.message_id))
    same_domain = _domain(entry.sender_address) is not None and _domain(entry.sender_address) == _domain(
        entry.recipient_address)
    if from_cloud and same_domain:
        return "Office 365 -> on-premises"
    return None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "?"


def _undelivered(evidence: EvidenceSet) -> list[TraceEntry]:
    return [e for e in evidence.trace_entries if e.status in UNDELIVERED]


_NEXT_STEPS = "\n".join([
    "# Exchange Online PowerShell: why is it deferred? The Defer event's Detail carries the reason (e.g. 4.4.317):",
    "Get-MessageTrace -Status Pending -StartDate (Get-Date).AddDays(-2) -EndDate (Get-Date) |",
    "    Get-MessageTraceDetail | Where-Object Event -eq 'Defer' | Format-List Date, Event, Detail, Data",
    "# Exchange Management Shell, on every server that receives mail from Exchange Online:",
    "Get-ExchangeCertificate -Server <ServerName> | Format-List Thumbprint, Subject, Issuer, RootCAType, Status, Services, NotAfter",
    "Get-ReceiveConnector -Server <ServerName> | Format-List Identity, TlsCertificateName, AuthMechanism, TlsDomainCapabilities",
])


def _trace_status(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    entries = _undelivered(evidence)
    registry_servers = sorted({server_name(c) for c in evidence.certificates
                               if c.root_ca_type is RootCAType.REGISTRY and c.is_ca_issued})
    for status in UNDELIVERED:
        matching = [e for e in entries if e.status is status]
        if not matching:
            continue
        dated = sorted(e.received for e in matching if e.received)
        recipients = sorted({e.recipient_address for e in matching if e.recipient_address}, key=str.casefold)
        domains = sorted({d for d in (_domain(r) for r in recipients) if d})
        directions = {d for d in (_direction(e) for e in matching) if d}
        parts = [f"{len(matching)} message(s) in Exchange Online's trace are {status.value}"]
        if dated:
            parts.append(f"first {_when(dated[0])}, last {_when(dated[-1])}")
        parts.append(f"to {len(recipients)} recipient(s) in {', '.join(domains) or '?'}")
        message = ", ".join(parts) + "."
        if directions == {"Office 365 -> on-premises"}:
            message += (" They were sent by cloud mailboxes to their own domain, so Exchange Online is routing them "
                        "to on-premises mailboxes (Office 365 -> on-premises) and deferring: it cannot deliver to "
                        "the on-premises servers over TLS.")
        if status is TraceStatus.PENDING:
            message += " Pending means Exchange Online is retrying; after 48 hours it gives up and returns an NDR."
        if registry_servers:
            message += (f" The certificate evidence points at the cause: RootCAType Registry on "
                        f"{', '.join(registry_servers)} (see HT-ROOT-001).")
        yield TRACE_UNDELIVERED.finding(
            subject=f"message trace: {status.value}", about=FindingSubject(name=status.value),
            severity=Severity.ERROR if status is TraceStatus.FAILED else Severity.WARNING,
            message=message,
            evidence=[Citation(source=e.cite("status"),
                               text=f"{_when(e.received)} {e.sender_address or '?'} -> {e.recipient_address or '?'}: "
                                    f"{status.value}") for e in matching[:20]],
            remediation=_NEXT_STEPS,
        )


TRACE_UNDELIVERED = Check(
    id="HT-TRACE-001", title="Mail not delivered (message trace Pending, Failed or GettingStatus)",
    severity=Severity.ERROR,
    needs=needs(MESSAGE_TRACE, also="RootCAType, to point at the cause when a root is only in Trusted Root CAs"),
    explanation=("Pending in Get-MessageTrace means Exchange Online is deferring and retrying: for hybrid mail "
                 "this is almost always TLS to the on-premises servers (certificate, chain, name, STARTTLS). "
                 "Failed means it gave up. Ordinary internet mail may still flow, because opportunistic TLS "
                 "falls back; hybrid connectors require TLS and certificate validation."),
    remediation="Read the Defer reason with Get-MessageTraceDetail, then check the certificate on each "
                "receiving server.",
    references=(refs.GET_MESSAGE_TRACE, refs.MAIL_FLOW_INTELLIGENCE), run=_trace_status,
)


def _began_after_new_certificate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    entries = [e for e in _undelivered(evidence) if e.received]
    public = [g for g in group_certificates(evidence.certificates) if g.is_ca_issued]
    starts = [(c.not_before, g, c) for g in public for c in g.observations if c.not_before]
    if not entries or not starts:
        return
    first = min(e.received for e in entries if e.received)
    earlier = [s for s in starts if s[0] <= first and first - s[0] <= _CORRELATION_WINDOW]
    if not earlier:
        return
    not_before, group, cert = max(earlier, key=lambda s: s[0])
    first_entry = min(entries, key=lambda e: e.received or datetime.max)
    days = (first - not_before).days
    yield CORRELATION.finding(
        subject=group.name, about=about(group.representative, server=False),
        message=(f"Undelivered mail begins {_when(first)}, {days} day(s) after {group.name} became valid "
                 f"(NotBefore {_when(not_before)}): consistent with the certificate change being the cause. "
                 "A new certificate from a new CA brings a new root that every server must hold as a "
                 "third-party root, and a new issuer in every TlsCertificateName."),
        evidence=[Citation(source=cert.cite("notbefore"), text=f"{server_name(cert)}: NotBefore {_when(not_before)}"),
                  Citation(source=first_entry.cite("received"),
                           text=f"first undelivered message received {_when(first)}")],
        remediation=("# Compare what changed with the certificate, on every server:\n"
                     "Get-ExchangeCertificate -Server <ServerName> | Format-List Thumbprint, Subject, Issuer, "
                     "RootCAType, Services, NotBefore\n"
                     "Get-SendConnector | Format-List Identity, TlsCertificateName, CloudServicesMailEnabled\n"
                     "Get-ReceiveConnector | Format-List Identity, TlsCertificateName, TlsDomainCapabilities"),
    )


CORRELATION = Check(
    id="HT-TRACE-002", title="Undelivered mail began after a new certificate became valid", severity=Severity.WARNING,
    needs=needs(MESSAGE_TRACE, CA_NOT_BEFORE),
    explanation=(f"When mail starts pending within {refs.CORRELATION_WINDOW_DAYS} days after a certificate's NotBefore, "
                 "the certificate change is the first suspect: a new root not in AuthRoot on some servers, "
                 "connectors still naming the old certificate, or the certificate missing on some servers."),
    remediation="Check the new certificate on every server and every connector that names it.",
    references=(refs.GET_MESSAGE_TRACE,), run=_began_after_new_certificate,
)


FAMILY = Family(name="mailflow", commands=frozenset({Command.CHECK}), checks=(TRACE_UNDELIVERED, CORRELATION))
CHECKS = FAMILY.checks
