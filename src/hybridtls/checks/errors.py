"""Error strings where mail is stuck (queue LastError, message trace Defer/Fail details) mapped to their causes,
citing the other evidence that confirms or rules each cause out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.events import certificate_authentication_failures
from hybridtls.checks.needs import DELIVERY_ERRORS as ERROR_TEXTS
from hybridtls.checks.readings import expired_on
from hybridtls.checks.selection import certificates_on, named_by, parse_name
from hybridtls.model import (
    ChainEnd,
    Citation,
    ConnectorDirection,
    DeliveryError,
    EvidenceSet,
    Finding,
    FindingSubject,
    ProbeOutcome,
    RootCAType,
    Severity,
)
from hybridtls.pki.hostnames import covers, domain_covered
from hybridtls.powershell import Script

Corroborate = Callable[[EvidenceSet, datetime], list[str]]


def _starttls(evidence: EvidenceSet, now: datetime) -> list[str]:
    notes = [f"confirmed: the probe of {p.label} saw no STARTTLS" for p in evidence.probes
             if p.outcome in (ProbeOutcome.NO_STARTTLS, ProbeOutcome.STARTTLS_REJECTED)]
    notes += [f"the probe of {p.label} saw STARTTLS offered: the path Exchange Online takes may differ (a firewall "
              "stripping it), or another node is at fault" for p in evidence.probes if p.starttls_offered]
    for connector in evidence.receive_connectors:
        name = parse_name(connector.tls_certificate_name)
        server = connector.server.name if connector.server else None
        if connector.accepts_cloud_mail and name and server:
            certs = certificates_on(evidence, server)
            if certs and not any(named_by(c, name) for c in certs):
                notes.append(f"confirmed: {connector.identity} names a certificate that is not on {server} (event 12014)")
    return notes


def _send_name(evidence: EvidenceSet, now: datetime) -> list[str]:
    notes = []
    for connector in evidence.send_connectors:
        name = parse_name(connector.tls_certificate_name)
        for server in connector.source_transport_servers:
            certs = certificates_on(evidence, server)
            if name and certs:
                found = any(named_by(c, name) and c.has_smtp for c in certs)
                notes.append(f"{'ruled out' if found else 'confirmed'}: {connector.name}'s certificate is "
                             f"{'' if found else 'not '}on {server} with SMTP")
    return notes


def _coverage(evidence: EvidenceSet, direction: ConnectorDirection, setting: str) -> list[str]:
    """Whether each Exchange Online connector's expected name covers the on-premises SMTP certificate."""
    cert = next((c for c in evidence.certificates if c.is_ca_issued and c.has_smtp and c.certificate_domains), None)
    notes = []
    for connector in evidence.online_connectors:
        value = connector.tls_domain if direction is ConnectorDirection.OUTBOUND else connector.tls_sender_certificate_name
        if connector.direction is direction and value and cert is not None:
            covered = domain_covered(value, cert.certificate_domains)
            notes.append(f"{'ruled out' if covered else 'confirmed'}: {setting} {value} "
                         f"{'covers' if covered else 'does not cover'} {cert.display_name}")
    return notes


def _subject(evidence: EvidenceSet, now: datetime) -> list[str]:
    notes = _coverage(evidence, ConnectorDirection.OUTBOUND, "TlsDomain")
    notes += [f"confirmed: {p.label} presents {p.chain[0].subject!r}, not covering {p.expected_name}"
              for p in evidence.probes if p.chain and not any(covers(d, p.expected_name) for d in p.chain[0].certificate_domains)]
    return notes


def _trust(evidence: EvidenceSet, now: datetime) -> list[str]:
    notes = [f"confirmed: RootCAType {c.root_ca_type.value} on {c.server.name if c.server else '?'} for "
             f"{c.display_name}" for c in evidence.certificates
             if c.is_ca_issued and c.root_ca_type not in (None, RootCAType.THIRD_PARTY)]
    notes += [f"confirmed: the chain of {c.leaf.label} does not reach a public root" for c in evidence.chains
              if c.end is not ChainEnd.TRUSTED]
    return notes


def _expired(evidence: EvidenceSet, now: datetime) -> list[str]:
    return [f"confirmed: {c.display_name} on {c.server.name if c.server else '?'} expired {expired}"
            for c in evidence.certificates if c.has_smtp and (expired := expired_on(c.possible_not_after, now))]


def _attribution(evidence: EvidenceSet, now: datetime) -> list[str]:
    return _coverage(evidence, ConnectorDirection.INBOUND, "TlsSenderCertificateName")


TRACKING_ORIGIN = "message tracking log"  # DeliveryError.origin of a tracking log's DEFER/FAIL


def _unknown_credentials(evidence: EvidenceSet, now: datetime) -> list[str]:
    return [f"confirmed: {c.display_name} is on {c.server.name if c.server else '?'} without SMTP"
            for c in evidence.certificates if c.is_ca_issued and c.has_smtp is False]


def _no_credentials(evidence: EvidenceSet, now: datetime) -> list[str]:
    return [f"confirmed: {c.display_name} has no private key on {c.server.name if c.server else '?'}"
            for c in evidence.certificates if c.has_private_key is False]


def _tls_versions(evidence: EvidenceSet, now: datetime) -> list[str]:
    return [f"confirmed: {p.label} does not accept TLS 1.2" for p in evidence.probes if p.accepted("TLSv1.2") is False]


def _exchange_auth(evidence: EvidenceSet, now: datetime) -> list[str]:
    notes = [f"confirmed: {note}" for note in certificate_authentication_failures(evidence)]
    for service in evidence.transport_services:
        wanted = (service.internal_transport_certificate_thumbprint or "").casefold()
        certs = certificates_on(evidence, service.server)
        if wanted and certs and not any((c.thumbprint or "").casefold() == wanted for c in certs):
            notes.append(f"confirmed: the internal transport certificate of {service.server} is not among its "
                         "certificates")
    return notes


def _network(evidence: EvidenceSet, now: datetime) -> list[str]:
    return [f"confirmed: {p.label}: {p.detail}" for p in evidence.probes if not p.outcome.connected]


@dataclass(frozen=True)
class Signature:
    pattern: re.Pattern[str]
    meaning: str
    cause: str
    fix: str
    corroborate: Corroborate | None = None
    wrapper: bool = False  # an outer response (4.4.101, expired) that says what it wraps: used when nothing inside is known
    benign: bool = False  # known, and no TLS or certificate matter (mailbox throttling): understood, no finding


def _sig(pattern: str, meaning: str, cause: str, fix: str, corroborate: Corroborate | None = None, *,
         wrapper: bool = False, benign: bool = False) -> Signature:
    return Signature(re.compile(pattern, re.I), meaning, cause, fix, corroborate, wrapper, benign)


SIGNATURES = (
    _sig(r"454 4\.7\.5|TlsCertificateName of the SendConnector could not be found", "the send connector's TlsCertificateName names no usable certificate",
         "the certificate was replaced or removed and the connector still names the old one",
         "Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName \"<I>$($c.Issuer)<S>$($c.Subject)\"",
         _send_name),
    _sig(r"STARTTLS is required", "the on-premises server did not offer STARTTLS",
         "no certificate matches the receive connector's TlsCertificateName or FQDN (event 12014), or a firewall "
         "strips STARTTLS", "Set-ReceiveConnector '<Server>\\Default Frontend <Server>' -TlsCertificateName "
         "\"<I>$($c.Issuer)<S>$($c.Subject)\"", _starttls),
    _sig(r"4\.7\.321|starttls-not-supported", "Exchange Online requires TLS to on-premises, and none was offered",
         "the outbound connector requires TLS (TlsSettings) and the on-premises receive connector offers no STARTTLS "
         "(no certificate matches its TlsCertificateName or FQDN: event 12014), or a firewall strips it",
         "Set-ReceiveConnector '<Server>\\Default Frontend <Server>' -TlsCertificateName "
         "\"<I>$($c.Issuer)<S>$($c.Subject)\"", _starttls),
    _sig(r"SubjectMismatch", "the certificate presented does not carry the name Exchange Online expects",
         "the outbound connector's TlsDomain is not in the certificate, or the wrong certificate is presented",
         "Set-OutboundConnector -Identity '<Outbound to ...>' -TlsDomain <NameInTheCertificate>", _subject),
    _sig(r"UntrustedRoot", "the certificate does not chain to a trusted root",
         "a private root, a missing intermediate, or (on-premises) a root only in Trusted Root CAs",
         "Install the intermediates in Cert:\\LocalMachine\\CA and the public root in AuthRoot", _trust),
    _sig(r"CertificateExpired|Certificate expired|4\.7\.320.*no longer valid", "the certificate presented expired",
         "an expired certificate on Exchange or on a device in front of it", "Renew and bind SMTP; re-run the HCW",
         _expired),
    _sig(r"4\.7\.320|Certificate validation failed", "Exchange Online could not validate the certificate",
         "chain, name, revocation or expiry: see the Message= part", "hybridtls probe <smarthost> --expect-name <TlsDomain>",
         _trust),
    _sig(r"5\.7\.51 TenantInboundAttribution", "a partner connector with RestrictDomainsToCertificate matched",
         "the sending certificate does not match that connector's TlsSenderCertificateName",
         "Set-InboundConnector -Identity '<connector>' -TlsSenderCertificateName <domain in the certificate>",
         _attribution),
    _sig(r"5\.7\.64|TenantAttribution", "Exchange Online could not attribute the on-premises mail to the tenant",
         "the sending certificate's names are not covered by the inbound connector's TlsSenderCertificateName, or "
         "its intermediates are not sent", "Set-InboundConnector -TlsSenderCertificateName <domain>; re-run the HCW",
         _attribution),
    _sig(r"UnknownCredentials", "the certificate is not usable for TLS on the sending server",
         "the certificate named by the connector is not enabled for SMTP",
         "Enable-ExchangeCertificate -Thumbprint <Thumbprint> -Services SMTP", _unknown_credentials),
    _sig(r"NoCredentials", "the sending server has no usable certificate",
         "the certificate or its private key is missing on one of the source servers",
         "Import-ExchangeCertificate (PFX with the private key) on that server, then enable SMTP", _no_credentials),
    _sig(r"IllegalMessage|TLS negotiation failed with error (SocketError|ConnectionAborted|InvalidToken)",
         "the TLS handshake failed", "no common TLS version or cipher (TLS 1.2 disabled, old Exchange CU), or a "
         "device between the servers answering the handshake itself (InvalidToken: a reply Schannel cannot read)",
         "Enable TLS 1.2 for Schannel and .NET; check with HealthChecker", _tls_versions),
    _sig(r"454 4\.7\.0 Temporary authentication failure",
         "the next Exchange server refused this server's authentication",
         "the server the mail goes through on its way (a front end with FrontendProxyEnabled, another Mailbox "
         "server, an Edge) could not authenticate this one with ExchangeAuth (Kerberos) or TLS with the internal "
         "transport certificate: clock skew, a missing SPN, Active Directory replication, Kerberos ports blocked, "
         "or a TLS-inspecting device between them; that server logs event 1035",
         "On the next hop read event 1035 (Get-WinEvent -FilterHashtable @{LogName='Application'; Id=1035}); "
         "compare the clocks (w32tm /stripchart /computer:<NextHop> /samples:3); Get-TransportService | "
         "Format-List Name, InternalTransportCertificateThumbprint", _exchange_auth),
    _sig(r"4\.4\.316|10061|Connection refused", "the connection was refused",
         "TCP 25 is not open to Microsoft 365 or the service is down", "Open TCP 25 from the Microsoft 365 ranges",
         _network),
    _sig(r"4\.4\.315|10060|timed out", "the connection timed out", "a firewall drops TCP 25, or the host is down",
         "Open TCP 25 from the Microsoft 365 ranges", _network),
    _sig(r"4\.4\.312|DNS query failed", "the smart host name does not resolve",
         "the outbound connector's smart host is not in public DNS", "Publish the smart host's A record", _network),
    _sig(r"4\.4\.318|closed abruptly", "the connection was closed abruptly",
         "a firewall's SMTP inspection or a middlebox", "Disable ESMTP inspection for Microsoft 365 traffic"),
    _sig(r"4\.4\.397", "the connection dropped after the certificate was sent",
         "a middlebox or a client-certificate problem", "Capture a verbose send protocol log (ProtocolLoggingLevel Verbose)"),
    _sig(r"QUEUE\.Expired|\b4\.4\.7\b|\b5\.4\.300\b", "mail expired in the queue after the retries",
         "the underlying error above persisted for two days", "Fix the cause, then resubmit from the sender"),
    _sig(r"4\.4\.101 Proxy session setup failed|Primary target IP address responded with",
         "a front end could not pass the mail on, and the reply it got is not one hybridtls knows",
         "the response quoted inside (after 'responded with' or 'failed on Frontend with') is the real error",
         "Read the quoted response; hybridtls explain \"<that response>\"", wrapper=True),
    _sig(r"4\.4\.317 [^\[]*\[Message=[^\]]*\b(?:SSL|TLS)\b",
         "Exchange Online could not complete TLS with the on-premises server",
         "the handshake with the smart host failed: no common TLS version or cipher, a certificate the server cannot "
         "use (no private key, not enabled for SMTP), or a device in front of Exchange answering TLS itself",
         "hybridtls probe <smart host> --expect-name <TlsDomain>", wrapper=True),
    _sig(r"4\.4\.317", "Exchange Online could not connect to the on-premises server",
         "the part after Message= says why (a certificate, STARTTLS or network reply)",
         "Read the Message= part; hybridtls explain \"<that text>\"", wrapper=True),
    _sig(r"STOREDRV\.Deliver.*thread limit exceeded", "mailbox delivery was throttled (a transient limit)",
         "many messages for one mailbox at once; Exchange retries, and this is no TLS or certificate matter",
         "Nothing to fix for hybrid TLS; the queue drains by itself", benign=True),
)


def signatures_for(text: str) -> tuple[Signature, ...]:
    """The catalogue entries an error text matches: every specific one (the nested responses of ``450 4.4.101
    ... '451 4.4.0 ... 451 5.7.3 ...'`` included); when none, the innermost wrapper (the one matched furthest
    into the text; at one place, the first in the catalogue)."""
    found = [(match.start(), s) for s in SIGNATURES if (match := s.pattern.search(text))]
    specific = tuple(s for _, s in found if not s.wrapper)
    if specific or not found:
        return specific
    innermost = max(start for start, _ in found)
    return (next(s for start, s in found if start == innermost),)



def _errors(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    matched = {id(e): signatures_for(e.text) for e in evidence.delivery_errors}
    for signature in (s for s in SIGNATURES if not s.benign):
        hits = [e for e in evidence.delivery_errors if signature in matched[id(e)]]
        if not hits:
            continue
        notes = signature.corroborate(evidence, ctx.now) if signature.corroborate else []
        origins = sorted({e.origin for e in hits})
        message = (f"{len(hits)} error(s) say {signature.meaning} ({', '.join(origins[:4])}"
                   f"{', ...' if len(origins) > 4 else ''}). Usual cause: {signature.cause}.")
        if notes:
            message += " Other evidence: " + "; ".join(dict.fromkeys(notes)) + "."
        yield DELIVERY_ERRORS.finding(
            subject=signature.meaning, about=FindingSubject(name=signature.meaning),
            severity=Severity.ERROR,
            message=message,
            evidence=[Citation(source=e.source, text=f"{e.origin}: {e.text[:300]}") for e in hits[:10]],
            remediation=signature.fix,
        )
    unknown: dict[str, list[DeliveryError]] = {}
    for error in evidence.delivery_errors:
        # a message tracking log's unknown status is HT-LOG-005's, said with the log's context
        if not matched[id(error)] and not error.origin.startswith(TRACKING_ORIGIN):
            unknown.setdefault(" ".join(error.text.split()), []).append(error)
    for text, errors in unknown.items():
        origins = sorted({e.origin for e in errors})
        yield DELIVERY_ERRORS.finding(
            subject=f"not in the catalogue: {text[:80]}", about=FindingSubject(name=text[:300]),
            severity=Severity.WARNING,
            message=(f"{len(errors)} error(s) ({', '.join(origins[:4])}) say {text[:300]!r}, which is not in "
                     "hybridtls's catalogue of delivery errors: the mail is stuck for a reason it cannot name."),
            evidence=[Citation(source=e.source, text=f"{e.origin}: {e.text[:300]}") for e in errors[:10]],
            remediation=str(Script().comment("Not in hybridtls's catalogue: look up the status code and the text; "
                                             "probe the next hop with: hybridtls probe <smart host>")),
        )


DELIVERY_ERRORS = Check(
    id="HT-ERR-001", title="Delivery errors explained", severity=Severity.ERROR,
    needs=needs(ERROR_TEXTS, also="the rest of the evidence (certificates, connectors, probes), to confirm or rule "
                "out each cause"),
    explanation=("The text of a queue's LastError, a message trace Defer event or an NDR's diagnostic information "
                 "names the failing step (4.4.317 with SubjectMismatch, 451 5.7.3 STARTTLS is required, 454 4.7.5, "
                 "550 5.7.64, 454 4.7.0 Temporary authentication failure, UnknownCredentials, NoCredentials, "
                 "InvalidToken...), often nested inside an outer response (450 4.4.101 ... with '451 4.4.0 ... "
                 "responded with: \"451 5.7.3 ...\"'): the innermost known response is the error. Each is mapped "
                 "to its usual cause and checked against the rest of the evidence; an outer response alone (4.4.101, "
                 "4.4.317) says what it wraps; an error not in the catalogue is a warning that quotes it."),
    remediation="Fix the cause named; the error clears on the next retry.",
    command=fixes.DEFER_REASONS,
    references=(refs.MAIL_FLOW_INTELLIGENCE, refs.HYBRID_TLS_BLOG),
    run=_errors,
)


FAMILY = Family(name="errors", commands=frozenset({Command.CHECK}), checks=(DELIVERY_ERRORS,))
CHECKS = FAMILY.checks
