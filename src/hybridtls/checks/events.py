"""Windows events from the Exchange transport, cross-checked against the certificates and connectors in the evidence.

An event is recognised by its id from an Exchange source (MSExchangeTransport, MSExchangeFrontEndTransport...),
or, for a description pasted alone, by its wording; the values it names (the connector's FQDN or
TlsCertificateName, a thumbprint, an address) are read from the English wording, and where the text is in another
language the connector the event names is looked up instead. An Exchange or Schannel event that matches nothing
known is still reported, with its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, Need, needs
from hybridtls.checks.estate import cite, get_certificate, server_name
from hybridtls.checks.readings import as_printed, expired_on, valid_until
from hybridtls.checks.roots import authroot_fix
from hybridtls.checks.selection import candidates, certificates_on, parse_name, server_matches
from hybridtls.model import (
    CertificateStatus,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    RootCAType,
    Severity,
    TraceStatus,
    WindowsEvent,
)
from hybridtls.powershell import Script

EVENTS = Need(what="Windows events (Event Viewer copies, Get-WinEvent or Get-EventLog | Format-List)",
              reason="no Windows events in the evidence: save Get-WinEvent -FilterHashtable @{LogName='Application'; "
                     "ProviderName='MSExchange*'} | Format-List from each Exchange server, or Event Viewer's 'Copy "
                     "details as text'",
              present=lambda e, c: bool(e.events))

_NO_CERTIFICATE = re.compile(
    r"could not find a certificate that contains the domain name (?P<name>.{1,1000}?) in the personal store on the "
    r"local computer\. Therefore, it is unable to support the STARTTLS SMTP verb for the connector "
    r"(?P<connector>.{1,300}?) with a FQDN parameter of (?P<fqdn>.{1,1000}?)\.(?: If the connector|\s*$)", re.I)
_NO_CERTIFICATE_SHORT = re.compile(r"could not find a certificate that contains the domain name", re.I)
_THUMBPRINT_LOAD = re.compile(r"could not load the certificate with thumbprint of (?P<thumbprint>[0-9A-Fa-f]{40})", re.I)
_EXPIRED = re.compile(r"for the FQDN of (?P<fqdn>[^\s]+?)\.?\s+The existing certificate for that FQDN has expired", re.I)
_EXPIRING = re.compile(r"subject: (?P<subject>.{1,500}?), thumbprint: ?(?P<thumbprint>[0-9A-Fa-f]{40}), hours remaining: "
                       r"?(?P<hours>\d+)", re.I)
_INTERNAL_EXPIRING = re.compile(r"Thumbprint: ?(?P<thumbprint>[0-9A-Fa-f]{40}), hours remaining: ?(?P<hours>\d+)", re.I)
_HOST_NAME = re.compile(r"[A-Za-z0-9*][A-Za-z0-9-]{0,62}(?:\.[A-Za-z0-9-]{1,63}){1,126}\.?")
_THUMBPRINT = re.compile(r"\b(?P<thumbprint>[0-9A-Fa-f]{40})\b")
_AUTH_FAILED = re.compile(
    r"Inbound authentication failed with error (?P<error>\w+) for Receive connector (?P<connector>.{1,300}?)\. The "
    r"authentication mechanism is (?P<mechanism>\w+)\. The source IP address of the client who tried to authenticate "
    r"to Microsoft Exchange is \[(?P<ip>[^\]]{1,64})\]", re.I)

_OAUTH_MISSING = re.compile(r"Unable to find the certificate with thumbprint (?P<thumbprint>[0-9A-Fa-f]{40}) in the "
                            r"current computer", re.I)
_OAUTH_SOURCE = "msexchange oauth"
_AUTH_SUBJECT = "cn=microsoft exchange server auth certificate"

_EXPIRY_IDS = {12016: Severity.ERROR, 12018: Severity.WARNING, 12017: Severity.WARNING}
_INTERNAL_IDS = {
    12012: (Severity.ERROR, "the internal transport certificate could not be read from Active Directory"),
    12013: (Severity.ERROR, "the internal transport certificate named in Active Directory is not in the server's "
                            "personal store"),
    12015: (Severity.WARNING, "the certificate used for anonymous TLS between Exchange servers has expired (it is "
                              "still offered)"),
    12019: (Severity.WARNING, "a remote Exchange server's internal transport certificate has expired"),
    12024: (Severity.ERROR, "the internal transport certificate could not be loaded and an ephemeral self-signed "
                            "certificate stands in for it"),
}
_CERTIFICATE_SOURCES = ("oauth", "certificate deployment", "auth")


def _is_exchange(event: WindowsEvent) -> bool:
    return event.provider is None or event.provider.casefold().startswith("msexchange")


def _kind(event: WindowsEvent) -> str | None:
    """What the event is, in hybridtls's catalogue; None when it is none of them."""
    if (event.provider or "").casefold() == "schannel" and event.event_id in _SCHANNEL:
        return "schannel"
    if not _is_exchange(event):
        return None
    text = event.description
    if event.event_id in (12014, 12023) or _NO_CERTIFICATE_SHORT.search(text):
        if _THUMBPRINT_LOAD.search(text):
            return "internal"  # 12023 is also seen with the internal certificate's wording: the wording decides
        if event.event_id == 12014 or _NO_CERTIFICATE_SHORT.search(text):
            return "no-certificate"
        return None  # a 12023 in a wording hybridtls does not know: reported as not understood
    if event.event_id in _EXPIRY_IDS:
        return "expiry"
    if event.event_id in _INTERNAL_IDS:
        return "internal"
    if event.event_id == 1035:
        return "authentication"
    if event.event_id == 2004 and (event.provider or _OAUTH_SOURCE).casefold() == _OAUTH_SOURCE:
        return "oauth"  # the id is MSExchange OAuth's: another source's 2004 means something else
    return None


def _server(event: WindowsEvent) -> str | None:
    return event.computer.split(".", 1)[0] if event.computer else None


def _moment(time: datetime) -> str:
    """A time as the event gave it: UTC said as such (from the Event Xml or an export), local time as printed."""
    return f"{time:%Y-%m-%d %H:%M:%S} UTC" if time.tzinfo is not None else f"{time:%Y-%m-%d %H:%M:%S}"


def _when(event: WindowsEvent) -> str:
    return f" at {_moment(event.time)}" if event.time else ""


def _citation(event: WindowsEvent) -> Citation:
    words = event.description if len(event.description) <= 300 else event.description[:300] + "..."
    inferred = " (id read from the wording)" if event.event_id_from_wording else ""
    return Citation(source=event.source, text=f"{event.label}{inferred}{_when(event)}: {words}")


def _groups(events: Iterable[WindowsEvent],
            key: Callable[[WindowsEvent], tuple[str, ...]]) -> dict[tuple[str, ...], list[WindowsEvent]]:
    grouped: dict[tuple[str, ...], list[WindowsEvent]] = {}
    for event in events:
        grouped.setdefault(key(event), []).append(event)
    return grouped


def _times(events: list[WindowsEvent]) -> str:
    """``3 times, from ... to ...`` or ``once``."""
    if len(events) == 1:
        return "once" + _when(events[0])
    dated = sorted((e.time for e in events if e.time), key=lambda t: t.replace(tzinfo=None))
    span = f", from {_moment(dated[0])} to {_moment(dated[-1])}" if dated else ""
    return f"{len(events)} times{span}"


# ---------------------------------------------------------------- HT-EVT-001: no certificate for a connector's name


@dataclass(frozen=True)
class _Named:
    """What a no-certificate event names: the certificate name (an FQDN or a TlsCertificateName) and the connector."""

    name: str | None
    connector: str | None


def _named(event: WindowsEvent) -> _Named:
    """From the English wording; else from the event's parameters (in a translated or unformatted description):
    the one that is a host name or a TlsCertificateName is the name, the first other one the connector."""
    match = _NO_CERTIFICATE.search(event.description)
    if match:
        return _Named(" ".join(match["name"].split()), " ".join(match["connector"].split()))
    names = [s for s in event.insertion_strings if s.startswith("<I>") or _HOST_NAME.fullmatch(s)]
    others = [s for s in event.insertion_strings if s not in names]
    return _Named(names[0] if names else None, others[0] if others else None)


def _named_in(evidence: EvidenceSet, server: str | None, text: str) -> str | None:
    """The longest connector name of the evidence written in the text (a description in another language)."""
    folded = text.casefold()
    names = [r.identity.rsplit("\\", 1)[-1] for r in evidence.receive_connectors
             if server is None or server_matches(r.server, server)] + [s.name for s in evidence.send_connectors]
    found = [name for name in names if name and name.casefold() in folded]
    return max(found, key=len) if found else None


def _connector_name(evidence: EvidenceSet, server: str | None, connector: str | None) -> tuple[str, str | None, str]:
    """(kind of connector, what it names for its certificate, its identity) for a connector the event names."""
    if connector:
        for receive in evidence.receive_connectors:
            short = receive.identity.rsplit("\\", 1)[-1]
            if short.casefold() == connector.casefold() and (server is None or server_matches(receive.server, server)):
                return "receive", receive.tls_certificate_name or receive.fqdn, receive.identity
        for send in evidence.send_connectors:
            if send.name.casefold() == connector.casefold():
                return "send", send.tls_certificate_name or send.fqdn, send.name
    if connector and connector.casefold().startswith("outbound to"):
        return "send", None, connector  # HCW's send connector, "Outbound to Office 365"
    return "", None, connector or ""


def _matching(certs: list[ExchangeCertificate], name: str) -> list[ExchangeCertificate]:
    """The certificates an event's name stands for: a TlsCertificateName names one, an FQDN any that covers it."""
    if name.startswith("<I>"):
        return candidates(certs, parse_name(name), None)
    return candidates(certs, None, name)


def _unusable(cert: ExchangeCertificate, now: datetime) -> str | None:
    if cert.has_private_key is False:
        return "it has no private key"
    expired = expired_on(cert.possible_not_after, now)
    if expired:
        return f"it expired {expired}"
    if cert.status not in (None, CertificateStatus.VALID):
        return f"its Status is {cert.status.value}"
    if cert.has_smtp is False:
        return "it is not enabled for SMTP"
    return None


def _lookup_fix(server: str | None, name: str | None, connector: tuple[str, str | None, str], *comments: str) -> str:
    script = Script(*comments)
    where = script.value(server, "<ServerName>", "server name")
    if name and name.startswith("<I>"):
        script.add(f"Get-ExchangeCertificate -Server {where} | Where-Object {{ \"<I>$($_.Issuer)<S>$($_.Subject)\" -eq "
                   f"{script.value(name, '<TlsCertificateName>', 'certificate name')} }} |")
    else:
        script.add(f"Get-ExchangeCertificate -Server {where} -DomainName "
                   f"{script.value(name, '<Fqdn>', 'FQDN')} |")
    script.add("    Format-List Thumbprint, Subject, Issuer, CertificateDomains, RootCAType, Status, Services, "
               "HasPrivateKey, NotAfter")
    kind, _, identity = connector
    command = "Get-SendConnector" if kind == "send" else "Get-ReceiveConnector"
    script.add(f"{command} -Identity {script.value(identity or None, '<ConnectorName>', 'connector name')} | "
               "Format-List Identity, Fqdn, TlsCertificateName")
    return str(script)


def _no_certificate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) == "no-certificate"]
    by_what = _groups(hits, lambda e: ((_server(e) or "").casefold(), (_named(e).connector or "").casefold(),
                                       (_named(e).name or "").casefold()))
    for group in by_what.values():
        first = group[0]
        server, named = _server(first), _named(first)
        connector = _connector_name(evidence, server, named.connector or _named_in(evidence, server, first.description))
        name = named.name or connector[1]
        certs = certificates_on(evidence, server) if server else list(evidence.certificates)
        effect = ("cannot present a certificate to the other side (Exchange Online attributes hybrid mail by it)"
                  if connector[0] == "send" or first.event_id == 12023 else "does not offer STARTTLS")
        head = (f"{first.label} says Exchange found no certificate for "
                f"{name if named.name else 'the name of ' + (named.connector or 'a connector')} "
                f"({_times(group)}): without one the connector {named.connector or connector[2] or '?'} {effect}.")
        if not named.name and name:
            head += f" The text does not say the name in English; the connector {connector[2]} names {name}."
        evidence_cited = [_citation(e) for e in group[:5]]
        severity, fix_cert, cause = Severity.ERROR, None, ""
        matches = _matching(certs, name) if name else []
        registry = [c for c in matches if c.root_ca_type is RootCAType.REGISTRY and c.is_ca_issued]
        if not name:
            cause = ("The name could not be read from the text and no connector of that name is in the evidence; "
                     "the event's own cause stands: no certificate in the personal store carries the connector's name.")
        elif registry:
            fix_cert = registry[0]
            cause = (f"{fix_cert.display_name} carries {name} on {server_name(fix_cert)}, but its RootCAType is "
                     "Registry: its root is only in 'Trusted Root Certification Authorities', not in 'Third-Party "
                     "Root Certification Authorities' (AuthRoot). This is the founding fault (HT-ROOT-001) seen from "
                     "the transport's side: Exchange does not count the certificate as usable for that name.")
            evidence_cited.append(cite(fix_cert, "rootcatype", "RootCAType", "Registry"))
            pending = [t for t in evidence.trace_entries if t.status is TraceStatus.PENDING]
            if pending:
                cause += (f" Exchange Online's message trace shows {len(pending)} message(s) Pending: its mail to this "
                          "server is being deferred.")
                evidence_cited.append(Citation(source=pending[0].source, text=f"message trace: Status Pending "
                                               f"({pending[0].recipient_address or '?'})"))
        elif matches:
            problems = [(c, _unusable(c, ctx.now)) for c in matches]
            broken = [(c, why) for c, why in problems if why]
            if len(broken) == len(matches):
                cause = "Every certificate that carries the name is unusable: " + "; ".join(
                    f"{c.display_name} on {server_name(c)}: {why}" for c, why in broken) + "."
                evidence_cited += [cite(c, "thumbprint", "Thumbprint", c.thumbprint or "?") for c, _ in broken[:3]]
            else:
                severity = Severity.WARNING
                cause = (f"A certificate that carries the name looks usable in the evidence ("
                         f"{next(c for c, why in problems if not why).display_name}): the event may predate it, or "
                         "the transport cannot read its private key (the event's advice: Enable-ExchangeCertificate "
                         "-Services SMTP).")
        elif certs:
            cause = (f"No certificate in the evidence for {server or 'the servers'} carries {name}: the certificate "
                     "is missing the name, or the connector names the wrong certificate or FQDN.")
            evidence_cited += [cite(c, "certificatedomains", "CertificateDomains", ", ".join(c.certificate_domains)
                                    or "(none)") for c in certs[:3]]
        else:
            cause = (f"There is no Get-ExchangeCertificate output from {server or 'the server'} to say why: the event's "
                     "own cause stands (no certificate in the personal store carries the name).")
        fix = authroot_fix(fix_cert) if fix_cert is not None else _lookup_fix(
            server, name, connector, "# Which certificates carry the name, and the connector that asks for it:")
        yield NO_CERTIFICATE.finding(
            subject=f"{server or '?'}: {named.connector or connector[2] or '?'} ({name or '?'})",
            server=server, severity=severity, message=f"{head} {cause}", evidence=evidence_cited, remediation=fix,
            about=FindingSubject(server=server, connector=named.connector or connector[2] or None,
                                 name=name or f"event {first.event_id}"))


NO_CERTIFICATE = Check(
    id="HT-EVT-001",
    title="Exchange found no certificate for a connector's name (events 12014, 12023)",
    severity=Severity.ERROR,
    needs=needs(EVENTS, also="Get-ExchangeCertificate from the event's server and the connectors, to say why"),
    explanation=(
        "Event 12014 (and 12023 in the same wording) says the transport looked in the server's personal store for "
        "a certificate carrying a connector's FQDN or TlsCertificateName and found none it could use, so the "
        "connector does not offer STARTTLS: Exchange Online's mail to it defers with '451 5.7.3 STARTTLS is "
        "required to send mail' (or, for a send connector, mail to Exchange Online goes without the certificate). "
        "The name is compared with the certificates in the evidence: a certificate that carries it but whose root "
        "is only in Trusted Root CAs (RootCAType Registry) is the founding fault seen from the transport; no "
        "certificate carrying it means the certificate lacks the name; an expired, keyless or non-SMTP certificate "
        "is named. The id 12023 is recognised here only by this wording: its other meanings are not confirmed."),
    remediation="Give the connector a certificate that carries its name and that the server trusts to a third-party "
                "root; enable it for SMTP.",
    command=fixes.ENABLE_SMTP,
    references=(refs.NEW_CERTIFICATE_NO_MAIL, refs.STARTTLS_SELECTION, refs.HYBRID_TLS_BLOG, refs.ROOTCATYPE_PENDING),
    run=_no_certificate,
)


# ---------------------------------------------------------------- HT-EVT-002: the SMTP certificate expires


def _expiry(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) == "expiry"]
    for group in _groups(hits, lambda e: ((_server(e) or "").casefold(), str(e.event_id), _expiry_subject(e).casefold())).values():
        first = group[0]
        server, what = _server(first), _expiry_subject(first)
        thumbprint = _THUMBPRINT.search(first.description)
        certs = certificates_on(evidence, server) if server else list(evidence.certificates)
        known = [c for c in certs if thumbprint and (c.thumbprint or "").casefold() == thumbprint["thumbprint"].casefold()]
        if not known and first.event_id == 12016 and what:
            known = [c for c in _matching(certs, what) if expired_on(c.possible_not_after, ctx.now)]
        kind = {12016: "its STARTTLS certificate has expired", 12018: "its STARTTLS certificate expires soon",
                12017: "its internal transport certificate expires soon"}[first.event_id or 0]
        message = f"{first.label} says {kind}{' (' + what + ')' if what else ''}, {_times(group)}."
        renewals = [c for c in (_matching(certs, what) if what else []) if c not in known
                    and c.has_private_key is not False and c.status in (None, CertificateStatus.VALID)
                    and valid_until(c.possible_not_after, ctx.now)]
        cited = [_citation(e) for e in group[:5]] + [cite(c, "notafter", "NotAfter", c.not_after or as_printed(
            c.not_after_readings)) for c in known[:3]]
        severity = _EXPIRY_IDS[first.event_id or 0]
        script = Script()
        where = script.value(server, "<ServerName>", "server name")
        bound = [c for c in renewals if c.has_smtp]
        if bound:
            severity = Severity.WARNING
            message += (f" {bound[0].display_name} (valid until {valid_until(bound[0].possible_not_after, ctx.now)}) "
                        "carries the name with "
                        "SMTP in the evidence: the event predates it, or another server still holds the old one.")
            cited.append(cite(bound[0], "notafter", "NotAfter", bound[0].not_after or as_printed(
                bound[0].not_after_readings)))
            script.add(f"Get-ExchangeCertificate -Server {where} -DomainName {script.value(what, '<Fqdn>', 'FQDN')} | "
                       "Format-List Thumbprint, NotAfter, Services, Status")
        elif renewals:
            new = renewals[0]
            message += (f" {new.display_name} (valid until {valid_until(new.possible_not_after, ctx.now)}) carries "
                        "the name but is not "
                        "enabled for SMTP: enable it.")
            cited.append(cite(new, "services", "Services", ", ".join(sorted(new.services or ())) or "None"))
            script.add(f"{get_certificate(script, new)} | Enable-ExchangeCertificate -Services SMTP")
        else:
            message += " Renew it, import the renewal on every server that uses it, enable it for SMTP and re-run the HCW."
            script.comment("Renew the certificate with its CA, then on each server that holds it:")
            script.add(f"Import-ExchangeCertificate -Server {where} -FileData ([System.IO.File]::ReadAllBytes("
                       "'<RenewedCertificate.pfx>')) -Password (Read-Host -AsSecureString 'PFX password') | "
                       "Enable-ExchangeCertificate -Services SMTP")
        yield EXPIRY.finding(
            subject=f"{server or '?'}: {what or kind}", server=server, message=message, evidence=cited,
            severity=severity, remediation=str(script),
            about=FindingSubject(server=server, certificate=thumbprint["thumbprint"].upper() if thumbprint else None,
                                 name=f"{first.event_id}:{what or '?'}"))


def _expiry_subject(event: WindowsEvent) -> str:
    for pattern, group in ((_EXPIRED, "fqdn"), (_EXPIRING, "subject")):
        match = pattern.search(event.description)
        if match:
            return " ".join(match[group].split())
    return ""


EXPIRY = Check(
    id="HT-EVT-002",
    title="The transport's certificate has expired or expires soon (events 12016, 12017, 12018)",
    severity=Severity.ERROR,
    needs=needs(EVENTS, also="Get-ExchangeCertificate, to find the certificate and a renewal already installed"),
    explanation=(
        "Event 12016 says the only certificate for a connector's FQDN has expired: STARTTLS is still offered with "
        "it, and Exchange Online refuses it (CertificateExpired). 12018 warns that the STARTTLS certificate expires "
        "within the hours it gives, 12017 the same for the internal transport certificate. The thumbprint or name "
        "is looked up in the evidence: an installed renewal that is not enabled for SMTP is named."),
    remediation="Renew the certificate, enable the renewal for SMTP on every server, and re-run the HCW.",
    command=fixes.IMPORT_AND_ENABLE,
    references=(refs.GET_EXCHANGE_CERTIFICATE, refs.HYBRID_TLS_BLOG, refs.STARTTLS_SELECTION),
    run=_expiry,
)


# ---------------------------------------------------------------- HT-EVT-003: the internal transport certificate


def _internal(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) == "internal"]
    for group in _groups(hits, lambda e: ((_server(e) or "").casefold(), str(e.event_id))).values():
        first = group[0]
        server = _server(first)
        severity, meaning = _INTERNAL_IDS.get(first.event_id or 0, (
            Severity.ERROR, "the internal transport certificate could not be loaded from the personal store"))
        match = _THUMBPRINT_LOAD.search(first.description) or _THUMBPRINT.search(first.description)
        thumbprint = match["thumbprint"] if match else None
        message = f"{first.label} says {meaning}, {_times(group)}."
        cited = [_citation(e) for e in group[:5]]
        service = next((t for t in evidence.transport_services
                        if server and t.server.split(".", 1)[0].casefold() == server.casefold()), None)
        if service and service.internal_transport_certificate_thumbprint:
            cited.append(Citation(source=service.source, text=f"{service.server}: InternalTransportCertificateThumbprint "
                                                              f"{service.internal_transport_certificate_thumbprint}"))
            on_server = certificates_on(evidence, server) if server else []
            wanted = service.internal_transport_certificate_thumbprint.casefold()
            if on_server and not any((c.thumbprint or "").casefold() == wanted for c in on_server):
                message += (f" Confirmed: the thumbprint Get-TransportService gives is not among {server}'s "
                            "certificates in the evidence.")
        script = Script("# Keep (or make) the server's own 5-year self-signed certificate the internal one:")
        where = script.value(server, "<ServerName>", "server name")
        script.add(f"Get-TransportService -Identity {where} | Format-List Name, InternalTransportCertificateThumbprint",
                   f"Get-ExchangeCertificate -Server {where} | Where-Object {{ $_.IsSelfSigned }} | "
                   "Format-List Thumbprint, Subject, NotAfter, Services",
                   f"Get-ExchangeCertificate -Server {where} -Thumbprint {script.thumbprint(thumbprint)} | "
                   "Enable-ExchangeCertificate -Services SMTP")
        yield INTERNAL.finding(
            subject=f"{server or '?'}: event {first.event_id}", server=server, severity=severity, message=message,
            evidence=cited, remediation=str(script),
            about=FindingSubject(server=server, name=f"{first.event_id}:{thumbprint or '?'}"))


INTERNAL = Check(
    id="HT-EVT-003",
    title="The internal transport certificate is missing, cannot be loaded or has expired (12012-12024)",
    severity=Severity.ERROR,
    needs=needs(EVENTS, also="Get-TransportService and Get-ExchangeCertificate of the event's server"),
    explanation=(
        "Exchange servers authenticate to each other over TLS with the internal transport certificate "
        "(InternalTransportCertificateThumbprint): 12012 it is not in Active Directory, 12013 (and 12023 in that "
        "wording) it is not in the personal store, 12024 an ephemeral self-signed one stands in, 12015 and 12019 "
        "it (or a remote server's) expired. Mail between the servers on its way to or from the hybrid server then "
        "stalls. Enabling a third-party certificate for SMTP offers to replace this certificate: the answer should be "
        "No, and the 5-year self-signed certificate kept."),
    remediation="Enable the server's own self-signed certificate for SMTP (it becomes the internal one), or create one.",
    command=fixes.ENABLE_SMTP,
    references=(refs.STARTTLS_SELECTION, refs.HYBRID_TLS_BLOG),
    run=_internal,
)


# ---------------------------------------------------------------- HT-EVT-004: inbound authentication failed

_CERTIFICATE_MECHANISMS = {"exchangeauth", "tls", "externalauthoritative"}


def _authentication(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [(e, _AUTH_FAILED.search(e.description)) for e in evidence.events if _kind(e) == "authentication"]

    def key(item: tuple[WindowsEvent, re.Match[str] | None]) -> tuple[str, ...]:
        event, match = item
        return ((_server(event) or "").casefold(), *(("", "", "") if not match else
                                                     (match["connector"].casefold(), match["error"].casefold(),
                                                      match["mechanism"].casefold())))

    grouped: dict[tuple[str, ...], list[tuple[WindowsEvent, re.Match[str] | None]]] = {}
    for item in hits:
        grouped.setdefault(key(item), []).append(item)
    for items in grouped.values():
        first, match = items[0]
        server = _server(first)
        group = [e for e, _ in items]
        cited = [_citation(e) for e in group[:5]]
        if match is None:
            yield AUTHENTICATION.finding(
                subject=f"{server or '?'}: event 1035", server=server, severity=Severity.WARNING, evidence=cited,
                message=(f"{first.label}: inbound authentication failed on a receive connector ({_times(group)}); "
                         "the text is not in the English wording, so the connector and mechanism are not read."),
                about=FindingSubject(server=server, name="1035"))
            continue
        addresses = sorted({m["ip"] for _, m in items if m})
        connector, error, mechanism = match["connector"], match["error"], match["mechanism"]
        certificate = mechanism.casefold() in _CERTIFICATE_MECHANISMS
        message = (f"{first.label}: inbound authentication with {mechanism} failed with {error} on the receive "
                   f"connector {connector} ({_times(group)}; from {', '.join(addresses[:5])}"
                   f"{', ...' if len(addresses) > 5 else ''}). ")
        if certificate:
            message += ("ExchangeAuth and TLS authentication are how Exchange servers and Exchange Online prove "
                        "themselves to this connector: a failure here is a certificate or Kerberos fault between "
                        "the servers (internal transport certificate, clock skew, a TLS-inspecting device).")
        else:
            message += (f"{mechanism} is a user's password logon: this is a password failure, not a certificate "
                        "fault" + (" (many addresses: likely password guessing)." if len(addresses) > 3 else "."))
        script = Script()
        for address in addresses[:5]:
            script.comment(f"from {address}")
        identity = f"{server}\\{connector}" if server else connector
        script.add(f"Get-ReceiveConnector -Identity {script.value(identity, '<ConnectorName>', 'connector name')} "
                   "| Format-List Identity, AuthMechanism, PermissionGroups, RemoteIPRanges, Fqdn, TlsCertificateName")
        yield AUTHENTICATION.finding(
            subject=f"{server or '?'}: {connector} ({error}, {mechanism})", server=server,
            severity=Severity.WARNING if certificate else Severity.INFO, message=message, evidence=cited,
            remediation=str(script),
            about=FindingSubject(server=server, connector=connector, name=f"{error}:{mechanism}"))


def certificate_authentication_failures(evidence: EvidenceSet) -> list[str]:
    """Event 1035s where another Exchange server (ExchangeAuth, TLS) failed to authenticate: what each says."""
    found = []
    for event in evidence.events:
        match = _AUTH_FAILED.search(event.description) if _kind(event) == "authentication" else None
        if match and match["mechanism"].casefold() in _CERTIFICATE_MECHANISMS:
            found.append(f"event 1035 on {event.computer or '?'}: {match['mechanism']} from {match['ip']} failed with "
                         f"{match['error']} on {match['connector']}")
    return found


AUTHENTICATION = Check(
    id="HT-EVT-004",
    title="Inbound authentication failed on a receive connector (event 1035)",
    severity=Severity.WARNING,
    needs=needs(EVENTS, also="the receive connectors, to show their AuthMechanism"),
    explanation=(
        "Event 1035 names the receive connector, the authentication mechanism, the error and the client's address. "
        "With ExchangeAuth or TLS the failing party is another Exchange server or Exchange Online proving itself "
        "with its certificate: a fault between servers that hybrid mail can meet. With Login, Ntlm or Gssapi it is "
        "a user's password failing (often guessing from the internet): not a certificate fault, said as such."),
    remediation="For ExchangeAuth/TLS: check the internal transport certificate and the clocks of both servers; for "
                "password logons: block the addresses or restrict the connector's RemoteIPRanges.",
    command=fixes.CERTIFICATES_ON_SERVER,
    references=(refs.HYBRID_TLS_BLOG,),
    run=_authentication,
)


# ---------------------------------------------------------------- HT-EVT-007: the OAuth (Auth) certificate


def _oauth_thumbprint(event: WindowsEvent) -> str | None:
    """The thumbprint the event names: from the English wording, else the parameter that is one (a translation)."""
    match = _OAUTH_MISSING.search(event.description)
    if match:
        return match["thumbprint"].upper()
    found = [s for s in event.insertion_strings if _THUMBPRINT.fullmatch(s)]
    found = found or [m["thumbprint"] for m in _THUMBPRINT.finditer(event.description)]
    return found[0].upper() if found else None


def _is_auth_certificate(cert: ExchangeCertificate) -> bool:
    return " ".join((cert.subject or "").split()).casefold() == _AUTH_SUBJECT


def _oauth_cause(certs: list[ExchangeCertificate], named: ExchangeCertificate | None, server: str | None,
                 thumbprint: str | None, now: datetime) -> tuple[Severity, str]:
    """What the certificates read say of the thumbprint: (severity, the sentence)."""
    where = server or "the servers"
    if named is not None and named.has_private_key is False:
        return Severity.ERROR, f"Confirmed: {named.display_name} is on {where} without its private key."
    if named is not None and named.not_after is not None and named.not_after < now:
        return Severity.ERROR, (f"Confirmed: {named.display_name} on {where} expired {named.not_after:%Y-%m-%d}; "
                                "tokens it signs are refused.")
    if named is not None:
        return Severity.WARNING, (f"{named.display_name} is on {where} with its private key in the evidence: the event "
                                  "may predate its import, or the certificate was published less than an hour before.")
    if thumbprint and certs:
        return Severity.ERROR, (f"Confirmed: none of the {len(certs)} certificate(s) read from {where} has the "
                                f"thumbprint {thumbprint}.")
    return Severity.WARNING, (f"There is no Get-ExchangeCertificate output from {where} to confirm it: the event's own "
                              "cause stands.")


def _oauth(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) == "oauth"]
    for group in _groups(hits, lambda e: ((_server(e) or "").casefold(), _oauth_thumbprint(e) or "")).values():
        first = group[0]
        server, thumbprint = _server(first), _oauth_thumbprint(first)
        certs = certificates_on(evidence, server) if server else list(evidence.certificates)
        named = next((c for c in certs if thumbprint and (c.thumbprint or "").upper() == thumbprint), None)
        severity, cause = _oauth_cause(certs, named, server, thumbprint, ctx.now)
        cited = [_citation(e) for e in group[:5]]
        if named is not None:
            cited.append(cite(named, "thumbprint", "Thumbprint", named.thumbprint or "?"))
        others = [c for c in certs if _is_auth_certificate(c) and c is not named and c.has_private_key is not False
                  and (c.not_after is None or c.not_after > ctx.now)
                  and (c.not_before is None or c.not_before <= ctx.now)]
        message = (f"{first.label} says Exchange cannot sign OAuth tokens: the certificate AuthConfig names "
                   f"({thumbprint or 'thumbprint not read'}) is not in the personal store of {server or 'the server'}, "
                   f"or has no private key ({_times(group)}). {cause} Hybrid free/busy, MailTips, mailbox moves and "
                   "cloud archives use these tokens with Exchange Online; mail flow does not.")
        if others:
            message += (f" {others[0].display_name} (thumbprint {others[0].thumbprint}) is a valid Auth certificate on "
                        f"{server or 'the server'}: AuthConfig still names another one.")
            cited.append(cite(others[0], "subject", "Subject", others[0].subject or "?"))
        yield OAUTH.finding(
            subject=f"{server or '?'}: OAuth certificate {thumbprint or '?'}", server=server, severity=severity,
            message=message, evidence=cited, remediation=_oauth_fix(server, thumbprint, others[0] if others else None),
            about=FindingSubject(server=server, certificate=thumbprint, name="2004"))


def _oauth_fix(server: str | None, thumbprint: str | None, replacement: ExchangeCertificate | None) -> str:
    script = Script("# What AuthConfig names, and whether that certificate is on the server with its key:")
    where = script.value(server, "<ServerName>", "server name")
    script.add("Get-AuthConfig | Format-List CurrentCertificateThumbprint, PreviousCertificateThumbprint, "
               "NextCertificateThumbprint, NextCertificateEffectiveDate",
               f"Get-ExchangeCertificate -Server {where} -Thumbprint {script.thumbprint(thumbprint)} | "
               "Format-List Thumbprint, Subject, HasPrivateKey, NotAfter")
    if replacement is not None:
        script.comment("Make the Auth certificate already on the server the current one:")
        new = script.thumbprint(replacement.thumbprint)
    else:
        script.comment("No other Auth certificate in the evidence: create one (answer No if asked to replace the "
                       "default SMTP certificate), then make it the current one:")
        script.add("$auth = New-ExchangeCertificate -KeySize 2048 -PrivateKeyExportable $true -SubjectName "
                   "'cn=Microsoft Exchange Server Auth Certificate' -FriendlyName 'Microsoft Exchange Server Auth "
                   "Certificate' -DomainName @()")
        new = "$auth.Thumbprint"
    script.add(f"Set-AuthConfig -NewCertificateThumbprint {new} -NewCertificateEffectiveDate (Get-Date)",
               "Set-AuthConfig -PublishCertificate",
               "Set-AuthConfig -ClearPreviousCertificate")
    script.comment("On each server: restart the Service Host and the OWA/ECP pools; then re-run the Hybrid "
                   "Configuration Wizard so Exchange Online trusts the new certificate.")
    script.add("Restart-Service MSExchangeServiceHost",
               "Restart-WebAppPool MSExchangeOWAAppPool",
               "Restart-WebAppPool MSExchangeECPAppPool")
    return str(script)


OAUTH = Check(
    id="HT-EVT-007",
    title="The OAuth (Auth) certificate Exchange signs tokens with is missing or keyless (MSExchange OAuth 2004)",
    severity=Severity.ERROR,
    needs=needs(EVENTS, also="Get-ExchangeCertificate from the event's server, to confirm the thumbprint"),
    explanation=(
        "Event 2004 from MSExchange OAuth says the certificate with the thumbprint AuthConfig names "
        "(CurrentCertificateThumbprint) is not in the server's personal store, or its private key is missing, so "
        "Exchange cannot sign the tokens it sends. In a hybrid, free/busy, MailTips, mailbox moves and cloud "
        "archives with Exchange Online use those tokens (mail flow does not). The thumbprint is looked up among the "
        "certificates read from that server: absent, keyless or expired is confirmed (an error); present with its key "
        "is a warning (the event may predate the import); another valid Auth certificate on the server is named as "
        "the one to make current."),
    remediation="Make a valid Auth certificate current with Set-AuthConfig (creating one if needed), publish it, and "
                "re-run the Hybrid Configuration Wizard.",
    command='Set-AuthConfig -NewCertificateThumbprint <Thumbprint> -NewCertificateEffectiveDate (Get-Date); Set-AuthConfig -PublishCertificate',
    references=(refs.OAUTH_CERTIFICATE_EXPIRED, refs.SET_AUTH_CONFIG),
    run=_oauth,
)


# ---------------------------------------------------------------- HT-EVT-006: Schannel's TLS failures

_SCHANNEL = {
    36871: "Windows could not create a TLS credential: commonly the protocols or cipher suites asked for are all "
           "disabled on this server, or the certificate's private key cannot be used",
    36874: "a client offered only cipher suites this server does not enable: no common cipher suite",
    36882: "a certificate this server received was issued by a CA it does not trust (for Exchange Online: its "
           "current root, DigiCert Global Root G2, missing from the server's roots)",
    36884: "a certificate this server received does not carry the name it expected",
    36887: "the other side refused the TLS handshake with a fatal alert",
    36888: "this server refused the TLS handshake with a fatal alert",
}
_ALERTS = {10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure: no protocol or cipher suite in "
           "common", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
           45: "certificate_expired", 46: "certificate_unknown: the certificate was not accepted (chain or name)",
           47: "illegal_parameter", 48: "unknown_ca: the certificate's issuer is not trusted", 49: "access_denied",
           50: "decode_error", 51: "decrypt_error", 70: "protocol_version: no TLS version in common",
           71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
           109: "missing_extension", 112: "unrecognized_name", 116: "certificate_required"}
_ALERT = re.compile(r"fatal (?:alert|error) code is (?P<code>\d{1,3})", re.I)
_EXO_ROOT = "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"  # DigiCert Global Root G2


def _schannel(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) == "schannel"]

    def alert(event: WindowsEvent) -> str:
        match = _ALERT.search(event.description)
        return match["code"] if match else ""

    for group in _groups(hits, lambda e: ((_server(e) or "").casefold(), str(e.event_id), alert(e))).values():
        first = group[0]
        server, code = _server(first), alert(first)
        meaning = _SCHANNEL[first.event_id or 0]
        message = f"{first.label} ({_times(group)}): {meaning}"
        if code:
            message += f"; alert {code}: {_ALERTS.get(int(code), 'an alert code hybridtls does not name')}"
        message += (". Schannel does not say which connection: compare the times with the SMTP protocol logs, or "
                    "probe the server (hybridtls probe).")
        script = Script()
        if first.event_id in (36882, 36884):
            script.comment("Is Exchange Online's root (DigiCert Global Root G2) among this server's roots?")
            script.add(f"Get-ChildItem Cert:\\LocalMachine\\Root, Cert:\\LocalMachine\\AuthRoot | Where-Object "
                       f"{{ $_.Thumbprint -eq '{_EXO_ROOT}' }} | Format-List PSParentPath, Subject, NotAfter")
        else:
            script.comment("The TLS protocols and cipher suites this server enables (TLS 1.2 must be on, both ways):")
            script.add("Get-ChildItem 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols' "
                       "-Recurse | Get-ItemProperty | Format-List PSPath, Enabled, DisabledByDefault",
                       "Get-TlsCipherSuite | Format-Table Name   # Windows Server 2016 and later")
        yield SCHANNEL.finding(
            subject=f"{server or '?'}: Schannel {first.event_id}{' alert ' + code if code else ''}", server=server,
            message=message, evidence=[_citation(e) for e in group[:5]], remediation=str(script),
            about=FindingSubject(server=server, name=f"schannel:{first.event_id}:{code}"))


SCHANNEL = Check(
    id="HT-EVT-006",
    title="Windows refused or failed a TLS handshake (Schannel 36871, 36874, 36882, 36884, 36887, 36888)",
    severity=Severity.WARNING,
    needs=needs(EVENTS, also="the System log's Schannel events of the Exchange servers"),
    explanation=(
        "Schannel logs TLS failures in the System log without saying which connection: 36874 no cipher suite in "
        "common, 36871 no usable credential, 36882 and 36884 a received certificate untrusted or for another name, "
        "36887 and 36888 a fatal alert received or sent, with its TLS alert code (40 handshake_failure, 42-46 the "
        "certificate refused, 48 unknown_ca, 70 protocol_version). On a hybrid server they are the Windows side of "
        "IllegalMessage, UntrustedRoot and TLS-version failures; they are warnings, since other clients cause them "
        "too."),
    remediation="Enable TLS 1.2 and the Microsoft 365 cipher suites; trust Exchange Online's current root.",
    command=fixes.TLS12_SERVER,
    references=(refs.EXO_ENCRYPTION, refs.HYBRID_TLS_BLOG),
    run=_schannel,
)


# ---------------------------------------------------------------- HT-EVT-005: an event hybridtls does not know


def _unknown(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    hits = [e for e in evidence.events if _kind(e) is None]
    for group in _groups(hits, lambda e: ((e.provider or "").casefold(), str(e.event_id))).values():
        first = group[0]
        provider = (first.provider or "").casefold()
        exchange = _is_exchange(first) or provider.startswith("schannel") or "capi2" in provider
        certificate = any(word in provider for word in _CERTIFICATE_SOURCES)
        message = (f"{first.label} ({_times(group)}) is not in hybridtls's catalogue of transport and certificate "
                   "events; its text is quoted for you to read.")
        if certificate:
            message += (" It comes from Exchange's OAuth / Auth certificate side: check the certificate Get-AuthConfig "
                        "names (CurrentCertificateThumbprint) exists on every server and has not expired; hybrid "
                        "free/busy and mailbox moves depend on it, mail flow does not.")
        script = Script("# Read the recent events of this kind:")
        computers = sorted({e.computer for e in group if e.computer})
        script.add(f"Get-WinEvent -ComputerName {script.value(computers[0] if computers else None, '<ServerName>', 'computer name')} "
                   f"-FilterHashtable @{{LogName = 'Application'; ProviderName = "
                   f"{script.value(first.provider, '<ProviderName>', 'event source')}; Id = {first.event_id or 0}}} "
                   "-MaxEvents 20 | Format-List TimeCreated, MachineName, Message")
        if certificate:
            script.add("Get-AuthConfig | Format-List CurrentCertificateThumbprint, PreviousCertificateThumbprint",
                       "Get-ExchangeCertificate -Thumbprint (Get-AuthConfig).CurrentCertificateThumbprint | "
                       "Format-List Thumbprint, NotAfter, Services")
        yield UNKNOWN.finding(
            subject=f"{first.provider or 'event'} {first.event_id if first.event_id is not None else '?'}",
            server=_server(first), severity=Severity.WARNING if exchange else Severity.INFO, message=message,
            evidence=[_citation(e) for e in group[:5]], remediation=str(script),
            about=FindingSubject(name=f"{first.provider or '?'}:{first.event_id}"))


UNKNOWN = Check(
    id="HT-EVT-005",
    title="An Exchange or TLS event hybridtls does not know",
    severity=Severity.WARNING,
    needs=needs(EVENTS),
    explanation=(
        "An event from an Exchange source (MSExchange...), Schannel or CAPI2 that matches no id or wording in the "
        "catalogue is reported as a warning with its text, never passed over; an event from any other source is "
        "listed for information. Events from the OAuth / Auth certificate side are pointed at Get-AuthConfig."),
    remediation="Read the event's text; collect Get-ExchangeCertificate and the connectors of its server.",
    command=fixes.CERTIFICATES_ON_SERVER,
    references=(refs.HYBRID_TLS_BLOG,),
    run=_unknown,
)


FAMILY = Family(name="events", commands=frozenset({Command.CHECK}),
                checks=(NO_CERTIFICATE, EXPIRY, INTERNAL, AUTHENTICATION, OAUTH, SCHANNEL, UNKNOWN))
CHECKS = FAMILY.checks

