"""Connectors, the hybrid configuration and the certificates must agree, on both sides of the hybrid."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, NotApplicable, needs
from hybridtls.checks.needs import (
    CLOUD_RECEIVE_CONNECTOR,
    HYBRID_CONFIGURATION,
    HYBRID_SEND_CONNECTOR,
    ONLINE_INBOUND,
    ONLINE_OUTBOUND,
    TLS_CERTIFICATE_NAME,
    TRANSPORT_SERVICE,
)
from hybridtls.checks.readings import expired_on
from hybridtls.checks.selection import (
    candidates,
    certificates_on,
    has_certificate_evidence,
    named_by,
    parse_name,
    selected,
)
from hybridtls.model import (
    Citation,
    ConnectorDirection,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    FindingSubject,
    ReceiveConnector,
    SendConnector,
    Severity,
    states,
)
from hybridtls.pki.hostnames import domain_covered
from hybridtls.pki.tlsname import TlsCertificateName, names_same_certificate
from hybridtls.powershell import Script

_TLS_NAME_FROM_CERT = ("$c = Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint>\n"
                       "$name = \"<I>$($c.Issuer)<S>$($c.Subject)\"")


def _cite(record: SendConnector | ReceiveConnector, prop: str, label: str, value: object) -> Citation:
    """The property's line; for a record read from a command line, saying that it is as that command set it."""
    configured = f" (as configured by {record.configured_by.command})" if record.configured_by else ""
    return Citation(source=record.cite(prop), text=f"{label} {value}{configured}")


def _cert_text(cert: ExchangeCertificate) -> str:
    return f"{cert.subject or cert.display_name} (thumbprint {cert.thumbprint or '?'})"


def _fix_name(script: Script, cert: ExchangeCertificate | None) -> str:
    """The certificate's TlsCertificateName as a literal; ``$name`` (built by _TLS_NAME_FROM_CERT) without one."""
    if cert and cert.issuer and cert.subject:
        return script.value(str(TlsCertificateName(cert.issuer, cert.subject)), "<TlsCertificateName>",
                            "certificate's issuer or subject")
    return "$name"


def _set_name_fix(command: str, identity: str, what: str) -> str:
    """Build the TlsCertificateName from the installed certificate and set it on the connector."""
    script = Script(_TLS_NAME_FROM_CERT)
    return str(script.add(f"{command} -Identity {script.value(identity, '<ConnectorName>', what)} "
                          "-TlsCertificateName $name"))


def _enable_smtp(server: str, thumbprint: str | None, *comments: str) -> str:
    script = Script(*comments)
    return str(script.add(f"Get-ExchangeCertificate -Server {script.value(server, '<ServerName>', 'server name')} "
                          f"-Thumbprint {script.thumbprint(thumbprint)} | Enable-ExchangeCertificate -Services SMTP"))


def _hybrid_send_connectors(evidence: EvidenceSet) -> list[SendConnector]:
    return [c for c in evidence.send_connectors if c.is_hybrid]


def _send_connector(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for connector in _hybrid_send_connectors(evidence):
        if not states(connector, "tlscertificatename"):
            continue  # a command line that leaves it alone, or sets it from a variable (HT-CMD-002)
        if not connector.tls_certificate_name:
            yield SEND_TLS_NAME.finding(
                subject=connector.name,
                about=FindingSubject(connector=connector.name, name="TlsCertificateName"),
                message=(f"The hybrid send connector {connector.name!r} has no TlsCertificateName: it offers no "
                         "certificate to Exchange Online, which then cannot attribute the mail to your tenant "
                         "(mail arrives as external, or 550 5.7.64 TenantAttribution)."),
                evidence=[_cite(connector, "tlscertificatename", "TlsCertificateName", "(empty)")],
                one_line_fix=True, remediation=_set_name_fix("Set-SendConnector", connector.name, "connector name"))
            continue
        name = parse_name(connector.tls_certificate_name)
        if name is None:
            yield SEND_TLS_NAME.finding(
                subject=connector.name,
                about=FindingSubject(connector=connector.name, name="TlsCertificateName"),
                message=(f"The hybrid send connector {connector.name!r} has a malformed TlsCertificateName "
                         f"{connector.tls_certificate_name!r}: it must read <I>issuer<S>subject."),
                evidence=[_cite(connector, "tlscertificatename", "TlsCertificateName", connector.tls_certificate_name)],
                one_line_fix=True, remediation=_set_name_fix("Set-SendConnector", connector.name, "connector name"))
            continue
        for server in connector.source_transport_servers:
            certs = certificates_on(evidence, server)
            if not certs:
                continue
            matches = [c for c in certs if named_by(c, name)]
            smtp = [c for c in matches if c.has_smtp]
            keyed = [c for c in smtp if c.has_private_key is not False]
            problem = None
            if not matches:
                problem = ("no certificate there matches it: sending fails with '454 4.7.5 The certificate specified "
                           "in TlsCertificateName of the SendConnector could not be found.'")
            elif not smtp:
                problem = ("the matching certificate is not enabled for SMTP there (TLS negotiation failed with error "
                           "UnknownCredentials)")
            elif not keyed:
                problem = "the matching certificate has no private key there (TLS negotiation failed with error NoCredentials)"
            if problem is None:
                continue
            best = next((c for c in evidence.certificates if c.is_ca_issued and c.has_smtp), None)
            script = Script()
            script.comment(f"Either enable the named certificate for SMTP on {server}, or name the certificate that is:")
            script.add(f"Set-SendConnector -Identity {script.value(connector.name, '<ConnectorName>', 'connector name')} "
                       f"-TlsCertificateName {_fix_name(script, best)}")
            yield SEND_TLS_NAME.finding(
                subject=f"{connector.name} on {server}", server=server,
                about=FindingSubject(connector=connector.name, server=server),
                message=f"The hybrid send connector {connector.name!r} names {str(name)!r}, but on source server {server} {problem}.",
                evidence=[_cite(connector, "tlscertificatename", "TlsCertificateName", connector.tls_certificate_name),
                          Citation(source=certs[0].source, text=f"{server}: {len(certs)} certificate(s), "
                                                                f"{len(matches)} matching, {len(smtp)} with SMTP")],
                remediation=str(script))


SEND_TLS_NAME = Check(
    id="HT-CONN-001", title="Hybrid send connector's TlsCertificateName does not work on its source servers",
    severity=Severity.ERROR, needs=needs(HYBRID_SEND_CONNECTOR, also="Get-ExchangeCertificate from its source servers (servers without it "
                                                     "are not judged)"),
    explanation=("The 'Outbound to Office 365' connector offers the certificate named by TlsCertificateName; Exchange "
                 "Online uses it to attribute mail to the tenant. The name must match, character for character, a "
                 "certificate with SMTP and its private key on every source transport server."),
    remediation="Set-SendConnector -TlsCertificateName \"<I>$($c.Issuer)<S>$($c.Subject)\" from the installed certificate.",
    command=fixes.tls_name_command("Set-SendConnector -Identity '<ConnectorName>'"),
    references=(refs.HYBRID_TLS_BLOG, refs.SET_SEND_CONNECTOR),
    run=_send_connector,
)


def _cloud_receive_connectors(evidence: EvidenceSet) -> list[ReceiveConnector]:
    return [c for c in evidence.receive_connectors if c.accepts_cloud_mail]


@dataclass(frozen=True)
class _Selection:
    connector: ReceiveConnector
    server: str
    certs: list[ExchangeCertificate]
    name: TlsCertificateName | None
    matches: list[ExchangeCertificate]
    chosen: ExchangeCertificate | None
    public: ExchangeCertificate | None  # a CA-issued certificate with SMTP on that server


def _selections(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[_Selection]:
    """What each Office 365-facing receive connector will present, where the server's certificates are known."""
    for connector in _cloud_receive_connectors(evidence):
        server = connector.server.name if connector.server else None
        if not server or not has_certificate_evidence(evidence, server) or not (
                states(connector, "tlscertificatename") or states(connector, "fqdn")):
            continue  # a command line that says nothing of the name the connector selects by
        certs = certificates_on(evidence, server)
        name = parse_name(connector.tls_certificate_name)
        if connector.tls_certificate_name and name is None:
            continue  # malformed: reported by HT-CONN-002
        matches = candidates(certs, name, connector.fqdn or server)
        yield _Selection(connector, server, certs, name, matches, selected(matches, ctx.now),
                         next((c for c in certs if c.is_ca_issued and c.has_smtp), None))


def _receive_fix(connector: ReceiveConnector, setting: str, cert: ExchangeCertificate | None = None) -> str:
    """``Set-ReceiveConnector -Identity 'X' <setting>``, followed by the certificate's name when one is given."""
    script = Script()
    line = f"Set-ReceiveConnector -Identity {script.value(connector.identity, '<ConnectorName>', 'connector identity')} {setting}"
    if setting == "-TlsCertificateName":
        name = _fix_name(script, cert)
        if name == "$name":
            script.add(_TLS_NAME_FROM_CERT)
        line += f" {name}"
    return str(script.add(line))


def _receive_connector(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for connector in _cloud_receive_connectors(evidence):
        server = connector.server.name if connector.server else None
        if connector.auth_mechanism and not any(m.casefold() == "tls" for m in connector.auth_mechanism):
            yield RECEIVE_TLS.finding(
                subject=connector.identity, server=server,
                about=FindingSubject(connector=connector.identity, server=server, name="AuthMechanism"),
                message=(f"{connector.identity} accepts Office 365 mail but its AuthMechanism lacks Tls "
                         f"({', '.join(connector.auth_mechanism)}): it never offers STARTTLS."),
                evidence=[_cite(connector, "authmechanism", "AuthMechanism", ", ".join(connector.auth_mechanism))],
                one_line_fix=True, remediation=_receive_fix(connector, "-AuthMechanism Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer"))
        if connector.tls_certificate_name and parse_name(connector.tls_certificate_name) is None:
            yield RECEIVE_TLS.finding(
                subject=connector.identity, server=server,
                about=FindingSubject(connector=connector.identity, server=server, name="TlsCertificateName"),
                message=f"{connector.identity} has a malformed TlsCertificateName {connector.tls_certificate_name!r}.",
                evidence=[_cite(connector, "tlscertificatename", "TlsCertificateName", connector.tls_certificate_name)],
                one_line_fix=True, remediation=_set_name_fix("Set-ReceiveConnector", connector.identity, "connector identity"))
    for sel in _selections(evidence, ctx):
        if sel.chosen is None:
            looked_for = str(sel.name) if sel.name else f"the FQDN {sel.connector.fqdn or sel.server}"
            yield RECEIVE_TLS.finding(
                subject=sel.connector.identity, server=sel.server,
                about=FindingSubject(connector=sel.connector.identity, server=sel.server, name="no certificate"),
                message=(f"On {sel.server}, no installed certificate matches {sel.connector.identity}'s {looked_for}: "
                         "Exchange offers no STARTTLS there (event 12014) and Exchange Online defers with '451 5.7.3 "
                         "STARTTLS is required to send mail'."),
                evidence=[_cite(sel.connector, "tlscertificatename", "TlsCertificateName",
                                sel.connector.tls_certificate_name or "(empty)"),
                          Citation(source=sel.certs[0].source,
                                   text=f"{sel.server}: {len(sel.certs)} certificate(s), none matching")],
                one_line_fix=True, remediation=_receive_fix(sel.connector, "-TlsCertificateName", sel.public))
        elif sel.chosen.has_smtp is False and not (sel.public and len(sel.matches) > 1):
            yield RECEIVE_TLS.finding(
                subject=sel.connector.identity, server=sel.server,
                about=FindingSubject(connector=sel.connector.identity, server=sel.server, name="SMTP"),
                message=(f"On {sel.server}, {sel.connector.identity} will present {_cert_text(sel.chosen)}, which is "
                         "not enabled for SMTP; Exchange picks it anyway and TLS then fails."),
                evidence=[Citation(source=sel.chosen.cite("services"), text=f"{sel.server}: Services "
                                   f"{', '.join(sorted(sel.chosen.services or ())) or 'None'}")],
                one_line_fix=True, remediation=_enable_smtp(sel.server, sel.chosen.thumbprint))


RECEIVE_TLS = Check(
    id="HT-CONN-002", title="Receive connector for Office 365 mail cannot offer the right certificate",
    severity=Severity.ERROR, needs=needs(CLOUD_RECEIVE_CONNECTOR, also="Get-ExchangeCertificate from the same servers (the "
                                                       "certificate selection is judged only there)"),
    explanation=("The receive connectors that accept Office 365 mail (TlsDomainCapabilities AcceptCloudServicesMail) "
                 "must include Tls in AuthMechanism and find a certificate for their TlsCertificateName (or FQDN) "
                 "with SMTP; otherwise STARTTLS disappears (event 12014) or TLS fails."),
    remediation="Set the connector's TlsCertificateName to the installed hybrid certificate, with SMTP enabled.",
    command=fixes.tls_name_command("Set-ReceiveConnector -Identity '<ServerName>\\Default Frontend <ServerName>'"),
    references=(refs.STARTTLS_SELECTION, refs.NEW_CERTIFICATE_NO_MAIL),
    run=_receive_connector,
)


def _newest_wins(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for sel in _selections(evidence, ctx):
        if sel.chosen is None or sel.public is None or len(sel.matches) < 2 or sel.chosen is sel.public:
            continue
        if sel.chosen.thumbprint and sel.chosen.thumbprint == sel.public.thumbprint:
            continue
        yield NEWEST_WINS.finding(
            subject=sel.connector.identity, server=sel.server,
            about=FindingSubject(connector=sel.connector.identity, server=sel.server),
            message=(f"On {sel.server}, {len(sel.matches)} certificates match {sel.connector.identity}; Exchange "
                     f"presents the newest, {_cert_text(sel.chosen)}, not {_cert_text(sel.public)} which carries SMTP."),
            evidence=[Citation(source=c.cite("notbefore"),
                               text=f"{sel.server}: {_cert_text(c)} NotBefore "
                                    + (f"{c.not_before:%Y-%m-%d}" if c.not_before else "?")) for c in sel.matches],
            one_line_fix=True, remediation=_enable_smtp(sel.server, sel.chosen.thumbprint,
                                     "# Bind SMTP to the newest certificate, or remove the one that should not be used:"))


NEWEST_WINS = Check(
    id="HT-CONN-003", title="Exchange will present a newer certificate than the one enabled for SMTP",
    severity=Severity.ERROR, needs=needs(CLOUD_RECEIVE_CONNECTOR, also="Get-ExchangeCertificate from the same servers"),
    explanation=("When several certificates match a connector's TlsCertificateName or FQDN, Exchange takes the "
                 "newest NotBefore and does not check that it is enabled for SMTP: importing a renewal before "
                 "binding SMTP to it breaks TLS."),
    command=fixes.ENABLE_SMTP,
    remediation="Bind SMTP to the newest certificate, or remove the superseded one.", references=(refs.STARTTLS_SELECTION,),
    run=_newest_wins,
)


def _enable_on(server: str, *comments: str) -> str:
    script = Script(*comments)
    return str(script.add(f"Enable-ExchangeCertificate -Server {script.value(server, '<ServerName>', 'server name')} "
                          "-Thumbprint <Thumbprint> -Services SMTP"))


def _hybrid_configuration(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    config = next((c for c in evidence.hybrid_configurations if states(c, "tlscertificatename")), None)
    if config is None:
        return  # only command lines that leave TlsCertificateName alone, or set it from a variable (HT-CMD-002)
    name = parse_name(config.tls_certificate_name)
    if name is None:
        yield HYBRID_CONFIG.finding(
            subject="HybridConfiguration",
            about=FindingSubject(connector="HybridConfiguration", name="TlsCertificateName"),
            message=f"Get-HybridConfiguration's TlsCertificateName {config.tls_certificate_name!r} is empty or malformed.",
            evidence=[Citation(source=config.cite("tlscertificatename"), text=f"TlsCertificateName {config.tls_certificate_name}")],
            remediation=f"{_TLS_NAME_FROM_CERT}\nSet-HybridConfiguration -TlsCertificateName $name")
        return
    connectors: list[SendConnector | ReceiveConnector] = [c for c in evidence.send_connectors if c.is_hybrid]
    connectors += [c for c in evidence.receive_connectors if c.accepts_cloud_mail]
    for connector in connectors:
        theirs = parse_name(connector.tls_certificate_name)
        if theirs is None or names_same_certificate(theirs, name):
            continue
        label = connector.name if isinstance(connector, SendConnector) else connector.identity
        command = "Set-SendConnector" if isinstance(connector, SendConnector) else "Set-ReceiveConnector"
        script = Script()
        script.add(f"{command} -Identity {script.value(label, '<ConnectorName>', 'connector name')} -TlsCertificateName "
                   f"{script.value(str(name), '<TlsCertificateName>', 'hybrid configuration TlsCertificateName')}")
        yield HYBRID_CONFIG.finding(
            subject=label,
            about=FindingSubject(connector=label),
            message=(f"{label} names {str(theirs)!r}, but the hybrid configuration names {str(name)!r}: the next run "
                     "of the Hybrid Configuration Wizard, and Exchange Online's expectations, follow the hybrid "
                     "configuration."),
            evidence=[Citation(source=config.cite("tlscertificatename"), text=f"HybridConfiguration {name}"),
                      _cite(connector, "tlscertificatename", "TlsCertificateName", theirs)],
            remediation=str(script))
    for role, servers in (("receiving", config.receiving_transport_servers), ("sending", config.sending_transport_servers)):
        for server in servers:
            certs = certificates_on(evidence, server)
            if certs and not any(named_by(c, name) and c.has_smtp is not False for c in certs):
                yield HYBRID_CONFIG.finding(
                    subject=f"{server} ({role})", server=server,
                    about=FindingSubject(connector="HybridConfiguration", server=server, name=role),
                    message=(f"{server} is a {role} transport server of the hybrid configuration but holds no "
                             f"certificate named {str(name)!r} with SMTP."),
                    evidence=[Citation(source=config.cite(f"{role}transportservers"), text=f"{role}: {', '.join(servers)}"),
                              Citation(source=certs[0].source, text=f"{server}: {len(certs)} certificate(s), none named so")],
                    remediation=_enable_on(server, "# Import the hybrid certificate (with its private key) on the server, then:"))


HYBRID_CONFIG = Check(
    id="HT-CONN-004", title="Hybrid configuration and connectors name different certificates", severity=Severity.ERROR,
    needs=needs(HYBRID_CONFIGURATION, also="Get-SendConnector, Get-ReceiveConnector and Get-ExchangeCertificate, to "
                "compare with it"),
    explanation=("Get-HybridConfiguration's TlsCertificateName is what the Hybrid Configuration Wizard applies; "
                 "connectors naming another certificate, or receiving/sending servers without the certificate, "
                 "are the partial roll-outs that fail a share of the mail."),
    remediation="Make every hybrid connector and server use the hybrid configuration's certificate, or re-run the HCW.",
    command=fixes.tls_name_command('Set-HybridConfiguration'),
    references=(refs.SET_HYBRID_CONFIGURATION,), run=_hybrid_configuration,
)


def _hybrid_certificate(evidence: EvidenceSet) -> ExchangeCertificate | None:
    """The certificate the hybrid uses: named by the hybrid configuration or a hybrid connector, with SMTP."""
    names = [parse_name(c.tls_certificate_name) for c in evidence.hybrid_configurations]
    names += [parse_name(c.tls_certificate_name) for c in evidence.send_connectors if c.is_hybrid]
    names += [parse_name(c.tls_certificate_name) for c in evidence.receive_connectors if c.accepts_cloud_mail]
    for name in (n for n in names if n):
        cert = next((c for c in evidence.certificates if named_by(c, name) and c.certificate_domains), None)
        if cert:
            return cert
    return next((c for c in evidence.certificates if c.is_ca_issued and c.has_smtp and c.certificate_domains), None)


def _set_outbound(name: str, parameter: str, value: str | None, placeholder: str, what: str) -> str:
    """``Set-OutboundConnector -Identity 'X' -Parameter 'value'``; the placeholder when there is no usable value."""
    script = Script()
    identity = script.value(name, "<ConnectorName>", "connector name")
    return str(script.add(f"Set-OutboundConnector -Identity {identity} {parameter} {script.value(value, placeholder, what)}"))


def _outbound(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    outbound = [c for c in evidence.online_connectors if c.direction is ConnectorDirection.OUTBOUND and c.is_hybrid]
    cert = _hybrid_certificate(evidence)
    for connector in outbound:
        settings = (connector.tls_settings or "").casefold()
        if states(connector, "tlssettings") and settings not in ("domainvalidation", "certificatevalidation"):
            yield OUTBOUND.finding(
                subject=connector.name, severity=Severity.WARNING,
                about=FindingSubject(connector=connector.name, name="TlsSettings"),
                message=(f"The Exchange Online outbound connector {connector.name!r} has TlsSettings "
                         f"{connector.tls_settings or '(empty)'}: Exchange Online does not validate the on-premises "
                         "certificate, so a wrong certificate goes unnoticed (the HCW sets DomainValidation)."),
                evidence=[Citation(source=connector.cite("tlssettings"), text=f"TlsSettings {connector.tls_settings}")],
                one_line_fix=True, remediation=_set_outbound(connector.name, "-TlsSettings DomainValidation -TlsDomain", None,
                                          "<NameInTheCertificate>", "certificate name"))
        elif settings == "domainvalidation" and connector.tls_domain and cert is not None \
                and not domain_covered(connector.tls_domain, cert.certificate_domains):
            yield OUTBOUND.finding(
                subject=connector.name,
                about=FindingSubject(connector=connector.name, name="TlsDomain"),
                message=(f"The Exchange Online outbound connector {connector.name!r} validates TlsDomain "
                         f"{connector.tls_domain!r}, which the on-premises certificate {_cert_text(cert)} does not cover "
                         f"(its names: {', '.join(cert.certificate_domains)}). Exchange Online defers with "
                         "'450 4.4.317 ... SubjectMismatch'."),
                evidence=[Citation(source=connector.cite("tlsdomain"), text=f"TlsDomain {connector.tls_domain}"),
                          Citation(source=cert.cite("certificatedomains"),
                                   text=f"CertificateDomains {', '.join(cert.certificate_domains)}")],
                one_line_fix=True, remediation=_set_outbound(connector.name, "-TlsDomain", cert.certificate_domains[0],
                                          "<NameInTheCertificate>", "certificate name"))
        for config in evidence.hybrid_configurations:
            host = (config.on_premises_smart_host or "").casefold()
            if host and connector.smart_hosts and host not in (h.casefold() for h in connector.smart_hosts):
                yield OUTBOUND.finding(
                    subject=connector.name, severity=Severity.WARNING,
                    about=FindingSubject(connector=connector.name, name="SmartHosts"),
                    message=(f"The outbound connector {connector.name!r} sends to {', '.join(connector.smart_hosts)}, "
                             f"but the hybrid configuration's OnPremisesSmartHost is {config.on_premises_smart_host}."),
                    evidence=[Citation(source=connector.cite("smarthosts"), text=f"SmartHosts {', '.join(connector.smart_hosts)}"),
                              Citation(source=config.cite("onpremisessmarthost"), text=f"OnPremisesSmartHost {config.on_premises_smart_host}")],
                    one_line_fix=True, remediation=_set_outbound(connector.name, "-SmartHosts", config.on_premises_smart_host,
                                              "<SmartHost>", "OnPremisesSmartHost"))


OUTBOUND = Check(
    id="HT-CONN-005", title="Exchange Online outbound connector expects what on-premises does not present",
    severity=Severity.ERROR, needs=needs(ONLINE_OUTBOUND, also="the on-premises certificate (Get-ExchangeCertificate) and "
                                                "Get-HybridConfiguration"),
    explanation=("Exchange Online's outbound connector to on-premises validates the certificate (TlsSettings "
                 "DomainValidation) against TlsDomain; every receiving server's certificate must cover it, and the "
                 "smart hosts should be the hybrid configuration's."),
    remediation="Set-OutboundConnector -TlsDomain to a name in the certificate, or fix the certificate.",
    command=fixes.TLS_DOMAIN,
    references=(refs.SET_OUTBOUND_CONNECTOR, refs.HYBRID_TLS_BLOG),
    run=_outbound,
)


def _inbound_fix(connector: str, domain: str) -> str:
    script = Script()
    return str(script.add(f"Set-InboundConnector -Identity {script.value(connector, '<ConnectorName>', 'connector name')} "
                          f"-TlsSenderCertificateName {script.value(domain, '<NameInTheCertificate>', 'certificate name')}"
                          "   # or re-run the Hybrid Configuration Wizard"))


def _inbound(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    inbound = [c for c in evidence.online_connectors if c.direction is ConnectorDirection.INBOUND and c.is_hybrid
               and c.tls_sender_certificate_name]
    sending = None
    for send in evidence.send_connectors:
        name = parse_name(send.tls_certificate_name) if send.is_hybrid else None
        if name:
            sending = next((c for c in evidence.certificates if named_by(c, name) and c.certificate_domains), None)
    sending = sending or _hybrid_certificate(evidence)
    if sending is None:  # data-dependent: which certificate is the sending one is worked out from the evidence
        raise NotApplicable("the on-premises sending certificate is not in the evidence: save "
                            "'Get-ExchangeCertificate | Format-List' from the send connector's source servers")
    for connector in inbound:
        assert connector.tls_sender_certificate_name is not None
        if domain_covered(connector.tls_sender_certificate_name, sending.certificate_domains):
            continue
        yield INBOUND.finding(
            subject=connector.name,
            about=FindingSubject(connector=connector.name),
            message=(f"The Exchange Online inbound connector {connector.name!r} expects certificates for "
                     f"{connector.tls_sender_certificate_name!r}, but on-premises sends {_cert_text(sending)} (names: "
                     f"{', '.join(sending.certificate_domains)}). Mail from on-premises is then rejected with '550 5.7.64 "
                     "TenantAttribution; Relay Access Denied' or treated as external."),
            evidence=[Citation(source=connector.cite("tlssendercertificatename"),
                               text=f"TlsSenderCertificateName {connector.tls_sender_certificate_name}"),
                      Citation(source=sending.cite("certificatedomains"),
                               text=f"CertificateDomains {', '.join(sending.certificate_domains)}")],
            one_line_fix=True, remediation=_inbound_fix(connector.name, sending.certificate_domains[0]))


INBOUND = Check(
    id="HT-CONN-006", title="Exchange Online inbound connector does not accept the on-premises certificate",
    severity=Severity.ERROR, needs=needs(ONLINE_INBOUND, also="the on-premises sending certificate (Get-ExchangeCertificate, "
                                               "Get-SendConnector)"),
    explanation=("Exchange Online attributes mail from on-premises to the tenant by the sending certificate: its "
                 "names must be covered by the inbound connector's TlsSenderCertificateName (a domain, wildcards "
                 "allowed). After a certificate change with new names, mail is rejected (550 5.7.64) or external."),
    remediation="Set-InboundConnector -TlsSenderCertificateName to a domain the certificate covers, or re-run the HCW.",
    command="Set-InboundConnector -Identity '<Inbound from ...>' -TlsSenderCertificateName '<NameInTheCertificate>'",
    references=(refs.TENANT_ATTRIBUTION, refs.SET_INBOUND_CONNECTOR),
    run=_inbound,
)


def _edge_length(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    named: list[tuple[str, str, Citation]] = []
    for send in evidence.send_connectors:
        if send.tls_certificate_name:
            named.append((send.name, send.tls_certificate_name,
                          _cite(send, "tlscertificatename", "TlsCertificateName", f"{len(send.tls_certificate_name)} characters")))
    for config in evidence.hybrid_configurations:
        if config.tls_certificate_name:
            named.append(("HybridConfiguration", config.tls_certificate_name,
                          Citation(source=config.cite("tlscertificatename"),
                                   text=f"TlsCertificateName {len(config.tls_certificate_name)} characters")))
    edge = any(c.edge_transport_servers for c in evidence.hybrid_configurations)
    for label, value, citation in named:
        if len(value) > refs.EDGE_TLS_NAME_LIMIT:
            yield EDGE_TOO_LONG.finding(
                subject=label, severity=Severity.ERROR if edge else Severity.WARNING,
                about=FindingSubject(connector=label),
                message=(f"{label}'s TlsCertificateName is {len(value)} characters, over the {refs.EDGE_TLS_NAME_LIMIT} the Edge "
                         "Transport directory accepts: EdgeSync fails to replicate it ('A value in the request is "
                         "invalid') and mail from on-premises looks external in Exchange Online"
                         + ("." if edge else " (if Edge servers are in the mail path).")),
                evidence=[citation],
                remediation=("# Use the connector FQDN instead of the long name (the FQDN must be in the certificate):\n"
                             "Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName $null "
                             "-Fqdn mail.contoso.com"))


EDGE_TOO_LONG = Check(
    id="HT-CONN-007", title="TlsCertificateName longer than Edge accepts (256 characters)", severity=Severity.ERROR,
    needs=needs(TLS_CERTIFICATE_NAME, also="EdgeTransportServers in Get-HybridConfiguration, to know Edge is in the path"),
    explanation="Edge servers store TlsCertificateName in an attribute limited to 256 characters; longer values break EdgeSync.",
    command="Set-SendConnector -Identity '<ConnectorName>' -Fqdn '<NameInTheCertificate>' -TlsCertificateName $null",
    remediation="Use -Fqdn with -TlsCertificateName $null, or a certificate with shorter names.", references=(refs.KB_4052493,),
    run=_edge_length,
)


def _internal_fix(server: str) -> str:
    script = Script("# Make the server's own 5-year self-signed certificate the internal transport certificate again:")
    shown = script.value(server, "<ServerName>", "server name")
    return str(script.add(
        f"Get-ExchangeCertificate -Server {shown} | Where-Object {{ $_.IsSelfSigned -and "
        "$_.Subject -like \"CN=$($_.PSComputerName)*\" } | Format-List Thumbprint, Subject, NotAfter",
        f"Enable-ExchangeCertificate -Server {shown} -Thumbprint <Thumbprint> -Services SMTP   "
        "# answer Yes to replacing the internal transport certificate"))


def _internal_transport(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    services = [t for t in evidence.transport_services if t.internal_transport_certificate_thumbprint]
    for service in services:
        certs = certificates_on(evidence, service.server)
        if not certs:
            continue
        thumbprint = (service.internal_transport_certificate_thumbprint or "").upper()
        match = next((c for c in certs if c.thumbprint == thumbprint), None)
        if match is None:
            problem = ("is not among its certificates: Exchange logs event 12013 and falls back to an ephemeral "
                       "self-signed certificate (event 12024); mail between Exchange servers, hybrid mail on its way "
                       "to the hybrid server among it, can stall")
        elif expired := expired_on(match.possible_not_after, ctx.now):
            problem = f"expired on {expired} (event 12015)"
        elif match.has_smtp is False:
            problem = "is not enabled for SMTP"
        else:
            continue
        yield INTERNAL_TRANSPORT.finding(
            subject=service.server, server=service.server,
            about=FindingSubject(server=service.server),
            message=f"On {service.server}, the internal transport certificate (thumbprint {thumbprint}) {problem}.",
            evidence=[Citation(source=service.source, text=f"InternalTransportCertificateThumbprint {thumbprint}"),
                      Citation(source=certs[0].source, text=f"{service.server}: {len(certs)} certificate(s)")],
            remediation=_internal_fix(service.server))


INTERNAL_TRANSPORT = Check(
    id="HT-CONN-008", title="Internal transport certificate missing or expired", severity=Severity.ERROR,
    needs=needs(TRANSPORT_SERVICE, also="Get-ExchangeCertificate of the same server (servers without it are not judged)"),
    explanation=("Mail between Exchange servers uses the internal transport certificate. Enabling a new public "
                 "certificate for SMTP offers to replace it; answering Yes and later removing that certificate "
                 "leaves the thumbprint pointing at nothing (events 12012/12013/12024)."),
    remediation="Re-enable the server's self-signed certificate for SMTP and accept replacing the internal transport certificate.",
    command=fixes.ENABLE_SMTP,
    references=(refs.STARTTLS_SELECTION,),
    run=_internal_transport,
)


FAMILY = Family(name="connectors", commands=frozenset({Command.CHECK}),
                checks=(SEND_TLS_NAME, RECEIVE_TLS, NEWEST_WINS, HYBRID_CONFIG, OUTBOUND, INBOUND, EDGE_TOO_LONG,
                        INTERNAL_TRANSPORT))
CHECKS = FAMILY.checks
