"""What Exchange Online's message trace says about mail that is not arriving, and when it started."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.estate import CertificateGroup, about, group_certificates, server_name
from hybridtls.checks.needs import CA_NOT_BEFORE, MESSAGE_TRACE
from hybridtls.checks.readings import as_printed, each_reading, not_judged, reads, verdicts
from hybridtls.model import (
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    NotJudged,
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
    command=fixes.DEFER_REASONS,
    references=(refs.GET_MESSAGE_TRACE, refs.MAIL_FLOW_INTELLIGENCE), run=_trace_status,
)


def _starts(evidence: EvidenceSet) -> list[tuple[tuple[datetime, ...], CertificateGroup, ExchangeCertificate]]:
    """The NotBefore of each CA-issued certificate, per observation: one date each, or, where no observation of
    the certificate reads one way, both readings of the first that reads two ways."""
    starts = []
    for group in group_certificates(evidence.certificates):
        if not group.is_ca_issued:
            continue
        with_date = [c for c in group.observations if c.not_before]
        two_ways = [c for c in group.observations if c.not_before_readings]
        starts += [(c.possible_not_before, group, c) for c in with_date or two_ways[:1]]
    return starts


def _began_after_new_certificate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    entries = [e for e in _undelivered(evidence) if e.received]
    starts = _starts(evidence)
    if not entries or not starts:
        return
    first = min(e.received for e in entries if e.received)

    def relation(start: datetime) -> str:
        if start > first:
            return "after the first undelivered message"
        return f"{'within' if first - start <= _CORRELATION_WINDOW else 'more than'} {_CORRELATION_WINDOW.days} days before it"

    earlier = []
    for dates, group, cert in starts:
        found = verdicts(dates, lambda d: d <= first and first - d <= _CORRELATION_WINDOW)
        if len(found) > 1 and cert.not_before_readings:
            yield not_judged(group.name, "NotBefore", cert.not_before_readings, cert.cite("notbefore"),
                             f"the first undelivered message was received {_when(first)}: "
                             + each_reading(dates, relation))
        elif found == [True]:
            earlier.append((dates, group, cert))
    if not earlier:
        return
    dates, group, cert = max(earlier, key=lambda s: s[0][-1])
    first_entry = min(entries, key=lambda e: e.received or datetime.max)
    days = " or ".join(str((first - d).days) for d in reversed(dates))
    readings = cert.not_before_readings
    began = (f"{days} day(s) after {group.name} became valid (NotBefore {_when(dates[0])})" if readings is None else
             f"{days} day(s) after {group.name} became valid, within {_CORRELATION_WINDOW.days} days under either "
             f"reading of its NotBefore ({reads('NotBefore', readings)})")
    yield CORRELATION.finding(
        subject=group.name, about=about(group.representative, server=False),
        message=(f"Undelivered mail begins {_when(first)}, {began}: consistent with the certificate change being "
                 "the cause. A new certificate from a new CA brings a new root that every server must hold as a "
                 "third-party root, and a new issuer in every TlsCertificateName."),
        evidence=[Citation(source=cert.cite("notbefore"),
                           text=f"{server_name(cert)}: NotBefore " + (as_printed(readings) if readings else _when(dates[0]))),
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
    command=fixes.CERTIFICATES_ON_SERVER,
    references=(refs.GET_MESSAGE_TRACE,), run=_began_after_new_certificate,
)


FAMILY = Family(name="mailflow", commands=frozenset({Command.CHECK}), checks=(TRACE_UNDELIVERED, CORRELATION))
CHECKS = FAMILY.checks
