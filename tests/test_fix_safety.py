"""Every fix is safe to paste into an elevated shell, whatever the evidence says.

Hostile text goes into every evidence field that can reach a check's remediation or a plan step; each emitted fix
is then tokenised by an independent PowerShell lexer (pygments), and the payload must appear only inside string
literals or ``#`` comments that end at the line end, never as a command, operator or block comment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from factory import public_like_pki
from pygments.lexers import PowerShellLexer
from pygments.token import Comment, String
from ststools import GOOD_POLICY, sts_result

from hybridtls.checks import CHECKS, CheckContext, run_checks
from hybridtls.model import (
    AcceptedDomain,
    CertificateFile,
    CertificateStatus,
    ChainAnalysis,
    ChainElement,
    ChainEnd,
    ChainVerification,
    CheckStatus,
    ConfiguredBy,
    ConnectorDirection,
    DeliveryError,
    DnssecDomainStatus,
    EventLayout,
    EvidenceSet,
    ExchangeCertificate,
    HybridConfiguration,
    LoggedCertificate,
    MailQueue,
    OnlineConnector,
    PolicyFetch,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    ReceiveConnector,
    RootCAType,
    RootUpdateState,
    SendConnector,
    ServerBasis,
    ServerRef,
    SmtpLogSummary,
    SmtpLogType,
    SmtpSession,
    Source,
    StoreCertificate,
    StoreView,
    TlsaLookup,
    TlsaRecord,
    TlsOutcome,
    TraceEntry,
    TraceStatus,
    TrackingSummary,
    TranscriptDirection,
    TranscriptLine,
    TransportService,
    WindowsEvent,
)
from hybridtls.model import verify as bits
from hybridtls.pki.dane import observe, tlsa_for
from hybridtls.pki.facts import certificate_facts
from hybridtls.pki.mtasts import read_tlsrpt_record
from hybridtls.planning.build import build_plan
from hybridtls.powershell import SINGLE_QUOTES

NOW = datetime(2029, 6, 1)
MARK = "Stop-Computer"  # every payload carries it; it must never be code
PAYLOADS = {
    "semicolon": f"EX1;{MARK} -Force",
    "pipe": f"EX1|{MARK}",
    "subexpression": f"EX1$({MARK})",
    "backtick": f"EX1`;{MARK}",
    "newline": f"EX1\n{MARK} -Force",
    "carriage return": f"EX1\r{MARK}",
    "line separator": f"EX1\u2028{MARK}",
    "right single quote": f"EX1\u2019;{MARK};\u2019",
    "left single quote": f"EX1\u2018;{MARK}",
    "low single quote": f"EX1\u201a;{MARK}",
    "reversed single quote": f"EX1\u201b;{MARK}",
    "apostrophe": f"EX1';{MARK};'",
    "double quote": f'EX1";{MARK};"',
    "hash": f"EX1 #{MARK}",
    "block comment": f"EX1<#{MARK}#>;{MARK}",
}


def _src(name: str) -> Source:
    return Source(path=f"evidence/{name}.txt", line=1)


def _cert(h: str, server: str, **fields: object) -> ExchangeCertificate:
    return ExchangeCertificate(source=_src(server), server=ServerRef(name=server, basis=ServerBasis.FOLDER),
                               **fields)  # type: ignore[arg-type]


def estate(h: str) -> EvidenceSet:
    """An on-premises and Exchange Online estate where every name, value and identity carries the payload."""
    cas, mbx = f"CAS{h}", f"MBX{h}"
    issuer, subject = f"CN=Issuer {h}, O=Vendor", f"CN=mail{h}, O=Contoso"
    corp_issuer = f"CN=Corp {h} CA"
    tls_name = f"<I>{issuer}<S>{subject}"
    domain = f"mail{h}.contoso.com"
    public = dict(issuer=issuer, subject=subject, is_self_signed=False, certificate_domains=(domain,))
    certificates = (
        # the hybrid certificate on CAS: root in Registry, expired, untrusted, weak, no key; no 40-hex thumbprint
        _cert(h, cas, thumbprint=f"A1B2{h}", serial_number=f"0A{h}", services=frozenset({"SMTP", "IIS"}),
              root_ca_type=RootCAType.REGISTRY, status=CertificateStatus.UNTRUSTED, has_private_key=False,
              public_key_size=1024, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=5),
              friendly_name=h, **public),
        # a newer certificate of the same name without SMTP: Exchange presents it
        _cert(h, cas, thumbprint=f"B2{h}", serial_number=f"0B{h}", services=frozenset({"IIS"}),
              root_ca_type=RootCAType.THIRD_PARTY, not_before=NOW - timedelta(days=20), **public),
        # expiring soon, and new enough to be blamed for the pending mail
        _cert(h, cas, thumbprint=f"EE{h}", serial_number=f"0C{h}", issuer=issuer, subject=f"CN=soon{h}",
              is_self_signed=False, services=frozenset({"SMTP"}), root_ca_type=RootCAType.GROUP_POLICY,
              status=CertificateStatus.PENDING_REQUEST, not_before=NOW - timedelta(days=10),
              not_after=NOW + timedelta(days=10), certificate_domains=(domain,)),
        # an internal CA's certificate on MBX, not enabled for SMTP, named by MBX's receive connector
        _cert(h, mbx, thumbprint=None, serial_number=f"0D{h}", issuer=corp_issuer, subject=subject,
              is_self_signed=False, services=frozenset({"IIS"}), root_ca_type=RootCAType.ENTERPRISE,
              status=CertificateStatus.REVOCATION_CHECK_FAILURE, certificate_domains=(domain,)),
        # no RootCAType saved: the store listings alone judge where its root sits (CAS: Trusted Root only)
        _cert(h, cas, thumbprint=f"C3{h}", serial_number=f"0F{h}", issuer=issuer, subject=f"CN=other{h}",
              is_self_signed=False, services=frozenset({"SMTP"}), certificate_domains=(domain,)),
        # ... and on MBX (without SMTP: the self-signed one keeps it), where the root is in no root store
        _cert(h, mbx, thumbprint=f"C4{h}", serial_number=f"10{h}", issuer=issuer, subject=f"CN=other{h}",
              is_self_signed=False, services=frozenset({"IIS"}), certificate_domains=(domain,)),
        # MBX's own self-signed certificate carries SMTP
        _cert(h, mbx, thumbprint=f"FF{h}", serial_number=f"0E{h}", issuer=f"CN={mbx}", subject=f"CN={mbx}",
              is_self_signed=True, services=frozenset({"SMTP"}), root_ca_type=RootCAType.REGISTRY,
              status=CertificateStatus.DATE_INVALID, has_private_key=True, certificate_domains=(mbx,)),
    )
    cloud = ("mail.protection.outlook.com:AcceptCloudServicesMail",)
    send = (
        SendConnector(source=_src("send"), name=f"Outbound to Office 365 {h}", cloud_services_mail_enabled=True,
                      tls_certificate_name=tls_name, source_transport_servers=(cas,), fqdn=domain,
                      smart_hosts=(f"smart{h}",), tls_domain=h, address_spaces=(f"smtp:{h};1",)),
        SendConnector(source=_src("send"), name=f"Empty {h}", cloud_services_mail_enabled=True,
                      source_transport_servers=(cas,)),
        SendConnector(source=_src("send"), name=f"Malformed {h}", cloud_services_mail_enabled=True,
                      tls_certificate_name=f"garbage {h}", source_transport_servers=(cas,)),
        SendConnector(source=_src("send"), name=f"Long {h}", cloud_services_mail_enabled=True,
                      tls_certificate_name=f"<I>{issuer}<S>CN={'x' * 300}{h}", source_transport_servers=(mbx,)),
        # command lines from a change ticket and a script: a pasted \<S>, a name set from a variable
        SendConnector(source=_src("ticket"), name=f"Ticket {h}", tls_certificate_name=f"<I>{issuer}\\<S>{subject}",
                      configured_by=ConfiguredBy(command="Set-SendConnector", parameters=("identity", "tlscertificatename"))),
        SendConnector(source=_src("script"), name=f"Script {h}",
                      configured_by=ConfiguredBy(command=f"New-SendConnector{h}", parameters=("name", "tlscertificatename"),
                                                 unknown={"tlscertificatename": f"$Name{h}"})),
    )
    receive = (
        ReceiveConnector(source=_src("receive"), identity=f"{cas}\\Default Frontend {h}",
                         server=ServerRef(name=cas, basis=ServerBasis.IDENTITY), tls_certificate_name=tls_name,
                         auth_mechanism=("Integrated", h), tls_domain_capabilities=cloud, fqdn=domain),
        ReceiveConnector(source=_src("receive"), identity=f"{cas}\\Malformed {h}",
                         server=ServerRef(name=cas, basis=ServerBasis.IDENTITY), tls_certificate_name=f"x{h}",
                         tls_domain_capabilities=cloud),
        ReceiveConnector(source=_src("receive"), identity=f"{cas}\\Nothing {h}",
                         server=ServerRef(name=cas, basis=ServerBasis.IDENTITY),
                         tls_certificate_name=f"<I>CN=Other {h}<S>CN=none {h}", tls_domain_capabilities=cloud),
        ReceiveConnector(source=_src("receive"), identity=f"{mbx}\\Default Frontend {h}",
                         server=ServerRef(name=mbx, basis=ServerBasis.IDENTITY),
                         tls_certificate_name=f"<I>{corp_issuer}<S>{subject}", tls_domain_capabilities=cloud),
        # a change ticket's command naming an issuer no certificate has
        ReceiveConnector(source=_src("ticket"), identity=f"{cas}\\Ticket {h}",
                         server=ServerRef(name=cas, basis=ServerBasis.IDENTITY),
                         tls_certificate_name=f"<I>CN=Elsewhere {h}<S>{subject}",
                         configured_by=ConfiguredBy(command="Set-ReceiveConnector", parameters=("identity", "tlscertificatename"))),
    )
    hybrid = HybridConfiguration(source=_src("hybrid"), tls_certificate_name=tls_name, receiving_transport_servers=(mbx,),
                                 sending_transport_servers=(cas,), edge_transport_servers=(f"EDGE{h}",),
                                 domains=(f"contoso{h}.com",), on_premises_smart_host=f"smarthost{h}")
    online = (
        OnlineConnector(source=_src("eo"), direction=ConnectorDirection.OUTBOUND, name=f"Outbound to {h}",
                        connector_type="OnPremises", tls_settings="DomainValidation", tls_domain=f"other{h}",
                        smart_hosts=(f"wrong{h}",), recipient_domains=(h,)),
        OnlineConnector(source=_src("eo"), direction=ConnectorDirection.OUTBOUND, name=f"Unvalidated {h}",
                        connector_type="OnPremises", tls_settings=h),
        OnlineConnector(source=_src("eo"), direction=ConnectorDirection.INBOUND, name=f"Inbound from {h}",
                        connector_type="OnPremises", tls_sender_certificate_name=f"other{h}"),
    )
    # protocol logs: a send session that failed (UnknownCredentials) after the certificate of 10 days ago, one with
    # an error not in the catalogue, a certificate from "Exchange Online" that is not Microsoft's
    failed = SmtpSession(source=_src("send-log"), log_type=SmtpLogType.SEND, session_id=h, server=cas,
                         connector=f"Outbound to Office 365 {h}", remote_endpoint=f"{h}:25", remote_name=f"x{h}.outlook.com",
                         first_seen=NOW - timedelta(days=5), last_seen=NOW - timedelta(days=4), tls=TlsOutcome.FAILED,
                         tls_error="UnknownCredentials", failure=f"TLS negotiation failed with error UnknownCredentials{h}",
                         failure_line=3, certificate_sent=LoggedCertificate(subject=subject, thumbprint=f"A1{h}"),
                         certificate_received=LoggedCertificate(subject=f"CN=fw{h}", issuer=h, thumbprint=f"C0{h}"))
    odd = replace(failed, session_id=f"2{h}", tls_error=f"Odd{h}", failure=f"TLS negotiation failed with error Odd{h}")
    summary = SmtpLogSummary(source=_src("send-log"), log_type=SmtpLogType.SEND, server=cas,
                             connector=f"Outbound to Office 365 {h}", remote_address=h, sessions=2, sessions_cut=1,
                             tls_failed=(("UnknownCredentials", 1), (f"Odd{h}", 1)))
    return EvidenceSet(
        store_certificates=store_listings(h, cas, mbx, issuer),
        chain_verifications=(chain_verification(h, mbx, issuer),),
        root_update_states=(RootUpdateState(source=_src("authroot"), server=ServerRef(name=mbx, basis=ServerBasis.FOLDER),
                                            auto_update_disabled=True, last_sync=NOW - timedelta(days=400)),),
        certificates=certificates, send_connectors=send, receive_connectors=receive, hybrid_configurations=(hybrid,),
        online_connectors=(*online, *(OnlineConnector(source=_src(f"{t}/inbound"), direction=ConnectorDirection.INBOUND,
                                                      name=f"Inbound {t}{h}", tls_sender_certificate_name=domain,
                                                      tenant=f"{t}.onmicrosoft.com") for t in ("contoso", "fabrikam"))), events=events(h, cas, mbx, domain),
        smtp_sessions=(failed, odd), smtp_summaries=(summary,),
        tracking_summaries=(TrackingSummary(source=_src("tracking"), server=mbx, events=(("FAIL", 1),)),),
        transport_services=(TransportService(source=_src("transport"), server=cas,
                                             internal_transport_certificate_thumbprint=f"DEAD{h}"),),
        delivery_errors=(DeliveryError(source=_src("queue"), origin=f"queue {cas}\\4", server=cas,
                                       text=f"451 5.7.3 STARTTLS is required to send mail {h}"),
                         DeliveryError(source=_src("tracking"), origin=f"message tracking log {mbx}", server=mbx,
                                       text=f"599 9.9.9 {h}")),
        accepted_domains=(  # two tenants: the inbound connectors below share one certificate name
            AcceptedDomain(source=_src("a/domains"), domain_name=f"fabrikam{h}.com", tenant="contoso.onmicrosoft.com"),
            AcceptedDomain(source=_src("b/domains"), domain_name="fabrikam.onmicrosoft.com")),
        queues=(MailQueue(source=_src("queue"), identity=f"{cas}\\4{h}", server=cas, status="Suspended",
                          next_hop_domain=f"contoso{h}.mail.onmicrosoft.com", last_error=f"599 9.9.9 {h}"),),
        trace_entries=(TraceEntry(source=_src("trace"), status=TraceStatus.PENDING, received=NOW - timedelta(days=2),
                                  sender_address=f"a{h}@contoso.com", recipient_address=f"b{h}@contoso.com",
                                  subject=h, message_id=f"<{h}@x.prod.outlook.com>"),),
    )


def chain_verification(h: str, server: str, issuer: str) -> ChainVerification:
    """A certutil -verify dump whose names and thumbprints carry the payload: partial chain, untrusted root,
    expired, revocation unknown."""
    leaf = ChainElement(index=0, line=2, subject=f"CN=mail{h}", issuer=issuer, thumbprint=f"AB{h}",
                        errors=(bits.NOT_TIME_VALID, bits.REVOCATION_UNKNOWN))
    top = ChainElement(index=1, line=9, subject=issuer, issuer=f"CN=Root {h}", thumbprint=f"CD{h}",
                       errors=(bits.UNTRUSTED_ROOT,), infos=(bits.SELF_SIGNED,))
    return ChainVerification(source=_src(f"verify{h}"), server=ServerRef(name=server, basis=ServerBasis.FOLDER),
                             elements=(leaf, top), chain_errors=(bits.PARTIAL_CHAIN,), failed=True,
                             error_code="0x800b010a", error_name=f"CERT_E_CHAINING{h}", verdict=f"FAILED {h}")


def store_listings(h: str, cas: str, mbx: str, issuer: str) -> tuple[StoreCertificate, ...]:
    """Store listings whose servers, names and thumbprints carry the payload: the root only in Trusted Root on CAS,
    nowhere on MBX, in AuthRoot on EDGE; the intermediate expired and twice on CAS, missing from MBX's CA store."""
    root = f"CN=Root {h}"

    def listed(server: str, store: str, subject: str, thumbprint: str, issued_by: str, **fields: object) -> StoreCertificate:
        return StoreCertificate(source=_src(f"{server}-{store}"), server=ServerRef(name=server, basis=ServerBasis.FOLDER),
                                store=store, view=StoreView.LOGICAL, thumbprint=thumbprint, subject=subject,
                                issuer=issued_by, **fields)  # type: ignore[arg-type]

    return (
        listed(cas, "Root", root, f"AA{h}", root), listed(cas, "AuthRoot", f"CN=Other {h}", "B" * 40, f"CN=Other {h}"),
        listed(cas, "CA", issuer, f"CC{h}", root, not_after=NOW - timedelta(days=3)),
        listed(cas, "CA", issuer, "D" * 40, root, not_after=NOW - timedelta(days=2)),
        listed(mbx, "Root", f"CN=Other {h}", "B" * 40, f"CN=Other {h}"),
        listed(mbx, "CA", f"CN=Other CA {h}", f"EE{h}", f"CN=Other {h}"),
        listed(f"EDGE{h}", "AuthRoot", root, "A" * 40, root),
    )


def events(h: str, cas: str, mbx: str, domain: str) -> tuple[WindowsEvent, ...]:
    """Events whose computer, source and every value their text names carry the payload."""
    def event(event_id: int, text: str, computer: str, provider: str = "MSExchangeFrontEndTransport") -> WindowsEvent:
        return WindowsEvent(source=_src("events"), layout=EventLayout.EVENT_VIEWER, provider=provider,
                            event_id=event_id, computer=computer, time=NOW - timedelta(days=1), description=text)

    def no_certificate(name: str, connector: str) -> str:
        return (f"Microsoft Exchange could not find a certificate that contains the domain name {name} in the personal "
                f"store on the local computer. Therefore, it is unable to support the STARTTLS SMTP verb for the "
                f"connector {connector} with a FQDN parameter of {name}. If the connector's FQDN is not specified")

    return (
        event(12014, no_certificate(domain, f"Default Frontend {h}"), f"{cas}.contoso.com"),  # Registry: AuthRoot
        event(12014, no_certificate(f"other{h}.contoso.com", f"Frontend {h}"), cas),  # no certificate has the name
        event(12023, no_certificate(f"<I>CN=X{h}<S>CN=Y{h}", f"Outbound to Office 365 {h}"), mbx, "MSExchangeTransport"),
        event(12016, f"There is no valid SMTP Transport Layer Security (TLS) certificate for the FQDN of {domain}. The "
                     "existing certificate for that FQDN has expired.", cas, "MSExchangeTransport"),
        event(12018, f"The STARTTLS certificate will expire soon: subject: {domain}, thumbprint: {'A' * 40}, hours "
                     "remaining: 5.", mbx, "MSExchangeTransport"),
        event(12013, f"Microsoft Exchange could not load the certificate with thumbprint of {h} from the personal store",
              cas, "MSExchangeTransport"),
        event(1035, f"Inbound authentication failed with error LogonDenied for Receive connector Client {h}. The "
                    f"authentication mechanism is Login. The source IP address of the client who tried to "
                    f"authenticate to Microsoft Exchange is [10.0.0.{h}].", cas),
        event(2004, f"OAuth {h}", f"{mbx}.contoso.com", f"MSExchange OAuth{h}"),
        event(2004, f"Unable to find the certificate with thumbprint {'E' * 40} in the current computer {h}",
              f"{mbx}.contoso.com", "MSExchange OAuth"),
        event(99, f"unknown {h}", cas, f"MSExchange{h}"),
        event(36887, f"A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code "
                     f"is 46{h}.", cas, "Schannel"),
    )


def _files(h: str) -> tuple[CertificateFile, CertificateFile, CertificateFile]:
    pki = public_like_pki()
    leaf, inter, root = (certificate_facts(c.cert, source=_src(n), label=n)
                         for c, n in ((pki.leaf, "leaf"), (pki.intermediate, "intermediate"), (pki.root, "root")))
    leaf = replace(leaf, subject=f"CN=leaf{h}", issuer=f"CN=issuing{h}", certificate_domains=(f"leaf{h}",),
                   dns_names=(f"leaf{h}",), thumbprint=leaf.thumbprint, serial_number=f"01{h}",
                   not_after=NOW - timedelta(days=1), signature_hash="sha1", public_key_size=1024,
                   extended_key_usage=(("Client Authentication", "1.3.6.1.5.5.7.3.2"),),
                   ca_issuers=(f"http://ca.example/{h}",))
    inter = replace(inter, subject=f"CN=issuing{h}", issuer=f"CN=root{h}", source=Source(path=f"http://ca.example/{h}"))
    root = replace(root, subject=f"CN=root{h}", issuer=f"CN=root{h}")
    return leaf, inter, root


def chains_and_probes(h: str) -> EvidenceSet:
    leaf, inter, root = _files(h)
    chains = (
        ChainAnalysis(leaf=leaf, path=(leaf, inter), end=ChainEnd.MISSING_ISSUER, missing_issuer=f"CN=root{h}",
                      missing_issuer_urls=(f"http://ca.example/{h}",)),
        ChainAnalysis(leaf=leaf, path=(leaf, inter), end=ChainEnd.MISSING_ISSUER, missing_issuer=f"CN=root{h}",
                      fetched=(inter.thumbprint,)),
        ChainAnalysis(leaf=leaf, path=(leaf, inter, root), end=ChainEnd.UNTRUSTED_ROOT),
        ChainAnalysis(leaf=replace(leaf, extended_key_usage=(("Server Authentication", "1.3.6.1.5.5.7.3.1"),)),
                      path=(leaf, inter, root), end=ChainEnd.UNTRUSTED_ROOT),
    )
    host = f"mx{h}"

    def probe(address: str, outcome: ProbeOutcome, **fields: object) -> ProbeResult:
        return ProbeResult(host=host, address=address, port=25, expected_name=host, outcome=outcome, stage=ProbeStep.EHLO,
                           detail=h, transcript=(TranscriptLine(step=ProbeStep.EHLO, direction=TranscriptDirection.RECEIVED, text=h),),
                           banner=h, extensions=(h,), **fields)  # type: ignore[arg-type]

    probes = (
        probe("192.0.2.1", ProbeOutcome.REFUSED),
        probe("192.0.2.2", ProbeOutcome.NO_STARTTLS),
        probe("192.0.2.3", ProbeOutcome.TLS_FAILED),
        probe("192.0.2.4", ProbeOutcome.BUSY),
        probe("192.0.2.5", ProbeOutcome.OK, tls_version=f"TLSv1{h}", chain=(leaf, inter),
              versions_accepted=((f"TLSv1{h}", True),)),
    )
    domain = f"contoso{h}.com"
    no_report, _ = read_tlsrpt_record(f"_smtp._tls.{domain}", [])
    policies = (
        sts_result(GOOD_POLICY.replace("enforce", "testing"), mx=(f"mx{h}", "mail.contoso.com"), domain=domain,
                   host_name_covered=False, tlsrpt_record=no_report),
        sts_result(domain=domain, fetch=PolicyFetch.REDIRECT, fetch_detail=h, policy=None),
    )
    return EvidenceSet(certificate_files=(leaf, inter, root), chains=chains, probes=(*probes, *_dane_probes(h, probe)),
                       mta_sts=policies, dnssec_statuses=(DnssecDomainStatus(
                           source=_src(f"dnssec{h}"), domain_name=domain, feature_status="Enabled",
                           expected_mx=f"contoso{h}-com.o-v1.mx.microsoft"),))


def _dane_probes(h: str, probe: Callable[..., ProbeResult]) -> list[ProbeResult]:
    """A host name carrying the payload, with TLSA records that do not match (HT-DANE-001), are not signed
    (HT-DANE-002) and match only an expired certificate (HT-DANE-003)."""
    leaf, inter, _ = _files(h)
    found = []
    for address, record, secure in (("192.0.2.6", "00" * 32, True), ("192.0.2.7", tlsa_for(leaf).data_hex, False),
                                    ("192.0.2.8", tlsa_for(leaf).data_hex, True)):
        served = probe(address, ProbeOutcome.OK, chain=(leaf, inter))
        tlsa = TlsaRecord(usage=3, selector=1, matching_type=1, data_hex=record, source=_src(f"TLSA{h}"), name=h)
        found.append(replace(served, dane=observe(
            served, lookup=TlsaLookup.FOUND, secure=secure, records=(tlsa,), resolver=h)))
    return found


def plan_fixes(h: str) -> list[str]:
    leaf, inter, root = _files(h)
    new = replace(leaf, not_after=NOW + timedelta(days=365), certificate_domains=(f"new{h}",), thumbprint=f"AB{h}")
    root = replace(root, is_self_signed=True)
    chain = ChainAnalysis(leaf=new, path=(new, inter, root), end=ChainEnd.TRUSTED)
    plan = build_plan(replace(estate(h), probes=chains_and_probes(h).probes), new, chain, NOW)
    return [step.commands for step in plan.steps]


def check_fixes(evidence: EvidenceSet, ctx: CheckContext) -> dict[str, list[str]]:
    outcomes = run_checks(evidence, ctx)
    crashed = {o.check_id: o.reason for o in outcomes if o.status is CheckStatus.CRASHED}
    assert not crashed
    return {o.check_id: [f.remediation for f in o.findings] for o in outcomes if o.findings}


def assert_inert(script: str) -> None:
    """The payload only in string literals or line comments; no raw control character on any line."""
    for number, line in enumerate(script.split("\n"), start=1):
        bad = [c for c in line if unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp")]
        assert not bad, f"line {number} holds {bad!r}: {line!r}"
    tokens = list(PowerShellLexer().get_tokens(script))
    for index, (kind, text) in enumerate(tokens):
        if kind in Comment:
            following = tokens[index + 1][1] if index + 1 < len(tokens) else "\n"
            assert text.startswith("#") and "\n" not in text and following.startswith("\n"), (
                f"comment {text!r} does not end at the line end in:\n{script}")
        elif kind in String.Single:
            assert "\n" not in text, f"a literal spans lines (a value with a line break): {text!r}"
            _assert_quotes_doubled(text[1:-1], text)
        elif kind in String:
            assert MARK not in text, f"payload in a {kind} token {text!r} (not a single-quoted literal):\n{script}"
        else:
            assert MARK not in text and "Stop" not in text, f"payload as {kind} {text!r} in:\n{script}"


def _assert_quotes_doubled(body: str, token: str) -> None:
    """PowerShell ends a single-quoted string at any of the five single quotes that is not doubled."""
    index = 0
    while index < len(body):
        if body[index] in SINGLE_QUOTES:
            assert index + 1 < len(body) and body[index + 1] in SINGLE_QUOTES, (
                f"an undoubled quote {body[index]!r} ends the literal {token!r} early in PowerShell")
            index += 2
        else:
            index += 1


ESTATE_CHECKS = {"HT-ROOT-001", "HT-ROOT-002", "HT-CERT-001", "HT-CERT-002", "HT-CERT-003", "HT-CERT-004",
                 "HT-CERT-005", "HT-CERT-006", "HT-CERT-007", "HT-CONN-001", "HT-CONN-002", "HT-CONN-003",
                 "HT-CONN-004", "HT-CONN-005", "HT-CONN-006", "HT-CONN-007", "HT-CONN-008", "HT-ERR-001", "HT-QUEUE-001",
                 "HT-TRACE-001", "HT-TRACE-002", "HT-CMD-001", "HT-CMD-002", "HT-CMD-003", "HT-EVT-001", "HT-EVT-002",
                 "HT-EVT-003", "HT-EVT-004", "HT-EVT-005", "HT-EVT-006", "HT-EVT-007", "HT-LOG-001",
                 "HT-LOG-002", "HT-LOG-003", "HT-LOG-004", "HT-LOG-005", "HT-LOG-006", "HT-STORE-001",
                 "HT-STORE-002", "HT-STORE-003", "HT-STORE-004", "HT-STORE-005", "HT-STORE-006",
                 "HT-STORE-007", "HT-STORE-008", "HT-STORE-009", "HT-ROT-001", "HT-ROT-003", "HT-ROT-004"}
WIRE_AND_CHAIN_CHECKS = {"HT-CHAIN-001", "HT-CHAIN-002", "HT-CHAIN-003", "HT-CHAIN-004", "HT-CHAIN-005",
                         "HT-CHAIN-006", "HT-CHAIN-007", "HT-NAME-001", "HT-WIRE-001", "HT-WIRE-002",
                         "HT-WIRE-003", "HT-WIRE-004", "HT-WIRE-005", "HT-WIRE-006", "HT-DANE-001", "HT-DANE-002",
                         "HT-DANE-003", "HT-STS-001", "HT-STS-002", "HT-STS-003",
                         "HT-STS-004", "HT-STS-005", "HT-STS-006", "HT-ROT-001",
                         "HT-ROT-002"}


def test_the_scenarios_reach_every_check() -> None:
    assert ESTATE_CHECKS | WIRE_AND_CHAIN_CHECKS == {c.id for c in CHECKS}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_check_fix_is_inert(payload: str) -> None:
    fixes = check_fixes(estate(payload), CheckContext(now=NOW))
    assert set(fixes) == ESTATE_CHECKS
    ctx = CheckContext(now=NOW, expected_names=(f"host{payload}",),
                       expected_tls_names=(f"<I>CN=X{payload}<S>CN=Y{payload}", f"malformed{payload}"))
    wire = check_fixes(chains_and_probes(payload), ctx)
    assert set(wire) == WIRE_AND_CHAIN_CHECKS
    for check_id, scripts in {**fixes, **wire}.items():
        for script in scripts:
            try:
                assert_inert(script)
            except AssertionError as exc:
                raise AssertionError(f"{check_id}: {exc}") from None


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_plan_step_is_inert(payload: str) -> None:
    scripts = plan_fixes(payload)
    assert len(scripts) >= 5
    # the store listings' servers (names carrying the payload) reach the per-server import step
    assert any("Invoke-Command -ComputerName " in s and "Import-Certificate" in s and "$servers" not in s
               for s in scripts)
    for script in scripts:
        assert_inert(script)


def test_a_placeholder_says_why() -> None:
    fixes = check_fixes(estate(PAYLOADS["newline"]), CheckContext(now=NOW))
    [script] = fixes["HT-CONN-008"]
    assert script.startswith("# <ServerName>: the server name in the evidence holds a line break")
    assert "-Server <ServerName>" in script


def test_the_module_api() -> None:
    from hybridtls.powershell import Script, comment_text, thumbprint

    script = Script()
    assert script.value("a\u2019b'c", "<X>") == "'a\u2019\u2019b''c'"
    assert script.value("a\u2028b", "<X>", "x") == "<X>" and script.value(None, "<Y>") == "<Y>"
    assert script.thumbprint("a1" * 20) == "A1" * 20 and thumbprint("A1;") is None
    assert script.certificate_item(thumbprint_text="masked", serial="0A'") == (
        "Get-ChildItem Cert:\\LocalMachine\\My | Where-Object { $_.SerialNumber -eq '0A''' }")
    assert comment_text("a\nb\u202ec") == "a?b?c"
    assert str(script.add("Get-Thing <X>")) == ("# <X>: the x in the evidence holds a line break or control character, "
                                                "not safe to paste; type it in.\nGet-Thing <X>")
    with pytest.raises(ValueError):
        str(Script("Get-Thing 'a\rb'"))
