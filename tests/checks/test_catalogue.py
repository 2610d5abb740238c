"""The catalogue: unique ids, and for every check one case where it fires and one where it stays quiet.

The table below must cover every id in CHECKS_BY_ID (a new check without cases fails here). Each case asserts the
exact set of (check id, finding key, severity), never a count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from factory import issue, name, public_like_pki
from ststools import GOOD_POLICY, sts_result

from hybridtls import references as refs
from hybridtls.checks import CHECKS, CHECKS_BY_ID, FAMILIES, CheckContext, Command, Needs, checks_for, run_checks
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
    MtaStsResult,
    OnlineConnector,
    OrganizationSide,
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
    TransportService,
    WindowsEvent,
)
from hybridtls.model import verify as bits
from hybridtls.pki.dane import observe, tlsa_for
from hybridtls.pki.facts import certificate_facts
from hybridtls.pki.mtasts import read_tlsrpt_record

NOW = datetime(2026, 11, 27, 12, 0)
ISSUER = "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, C=US"
TLS_NAME = f"<I>{ISSUER}<S>{SUBJECT}"
T1 = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
SEND = "Outbound to Office 365"
RECEIVE = "EXCAS1\\Default Frontend EXCAS1"
CLOUD = ("mail.protection.outlook.com:AcceptCloudServicesMail",)

_PKI = public_like_pki(not_after=datetime(2027, 3, 1, tzinfo=timezone.utc))  # 124 days: within SC-081's 200
LEAF, INTER, ROOT = (certificate_facts(c.cert, source=Source(path=f"{n}.pem"), label=n)
                     for c, n in ((_PKI.leaf, "leaf"), (_PKI.intermediate, "intermediate"), (_PKI.root, "root")))
OTHER = certificate_facts(issue(name("mail.contoso.com"), dns=("mail.contoso.com",)).cert,
                          source=Source(path="other.pem"), label="other")
LEAF_KEY = LEAF.thumbprint.casefold()
STS_LEAF_KEY = sts_result().host_chain[0].thumbprint.casefold()


def _cert(server: str, **fields: object) -> ExchangeCertificate:
    return ExchangeCertificate(source=Source(path=f"{server}/Get-ExchangeCertificate.txt", line=1),
                               server=ServerRef(name=server, basis=ServerBasis.FOLDER), **fields)  # type: ignore[arg-type]


def public(server: str, **changes: object) -> ExchangeCertificate:
    """The hybrid certificate, healthy, as Get-ExchangeCertificate shows it on one server."""
    cert = _cert(server, thumbprint=T1, subject=SUBJECT, issuer=ISSUER, serial_number="0A1B", is_self_signed=False,
                 certificate_domains=("mail.contoso.com", "autodiscover.contoso.com"),
                 services=frozenset({"IIS", "SMTP"}), root_ca_type=RootCAType.THIRD_PARTY,
                 status=CertificateStatus.VALID, has_private_key=True, public_key_size=2048,
                 not_before=NOW - timedelta(days=100), not_after=NOW + timedelta(days=95))  # 195 days: SC-081
    return replace(cert, **changes)  # type: ignore[arg-type]


def own(server: str) -> ExchangeCertificate:
    """The server's own self-signed certificate, with SMTP (normal)."""
    return _cert(server, thumbprint=(server.encode().hex().upper() + "0" * 40)[:40], subject=f"CN={server}",
                 issuer=f"CN={server}", serial_number="1F2E", is_self_signed=True, certificate_domains=(server,),
                 services=frozenset({"SMTP"}), root_ca_type=RootCAType.REGISTRY, status=CertificateStatus.VALID,
                 has_private_key=True, public_key_size=2048, not_before=NOW - timedelta(days=900),
                 not_after=NOW + timedelta(days=900))


def _src(what: str) -> Source:
    return Source(path=f"{what}.txt", line=1)


def probe(host: str, address: str, outcome: ProbeOutcome = ProbeOutcome.OK, **fields: object) -> ProbeResult:
    defaults: dict[str, object] = {"stage": ProbeStep.QUIT, "tls_version": "TLSv1.3", "chain": (LEAF, INTER),
                                   "versions_accepted": (("TLSv1.2", True), ("TLSv1.3", True))}
    if outcome is not ProbeOutcome.OK:
        defaults = {"stage": ProbeStep.CONNECT, "detail": outcome.value}
    defaults.update(fields)
    return ProbeResult(host=host, address=address, port=25, expected_name=host, outcome=outcome,
                       **defaults)  # type: ignore[arg-type]


ROOT_NAME = "CN=Test Root CA, O=Test Trust Services, C=US"
RT, IT = "5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E4F", "4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B1C2D3E"


def listed(server: str, store: str, subject: str, thumbprint: str, issuer: str = ROOT_NAME,
           **changes: object) -> StoreCertificate:
    """A certificate as Get-ChildItem Cert:\\LocalMachine\\<store> | Format-List lists it on one server."""
    cert = StoreCertificate(source=Source(path=f"{server}/{store}.txt", line=3), store=store, view=StoreView.LOGICAL,
                            server=ServerRef(name=server, basis=ServerBasis.FOLDER), thumbprint=thumbprint,
                            subject=subject, issuer=issuer, location=f"LocalMachine\\{store}",
                            not_before=NOW - timedelta(days=900), not_after=NOW + timedelta(days=3000))
    return replace(cert, **changes)  # type: ignore[arg-type]


def stores(server: str, *, root_in: tuple[str, ...] = ("AuthRoot", "Root"), ca: tuple[StoreCertificate, ...] = ()
           ) -> tuple[StoreCertificate, ...]:
    """A server's AuthRoot, Root and CA listings: the test root where ``root_in`` says, the intermediate in CA."""
    other = "CN=Other Root, O=Other, C=US"
    return (listed(server, "AuthRoot", other, "0" * 39 + "1", other), listed(server, "Root", other, "0" * 39 + "1", other),
            *(listed(server, store, ROOT_NAME, RT) for store in root_in),
            *(ca or (listed(server, "CA", ISSUER, IT),)))


def verified(server: str, *errors: str) -> ChainVerification:
    """certutil -verify -urlfetch of the hybrid certificate on one server: the chain, and its errors if any."""
    return ChainVerification(
        source=Source(path=f"{server}/certutil-verify.txt", line=20), server=ServerRef(name=server, basis=ServerBasis.FOLDER),
        elements=(ChainElement(index=0, line=21, subject=SUBJECT, issuer=ISSUER, thumbprint=T1, errors=errors),
                  ChainElement(index=1, line=30, subject=ISSUER, issuer=ROOT_NAME, thumbprint=IT),
                  ChainElement(index=2, line=39, subject=ROOT_NAME, issuer=ROOT_NAME, thumbprint=RT,
                               infos=(bits.SELF_SIGNED,))),
        chain_errors=errors, failed=bool(errors), verdict="CertUtil: -verify command completed successfully.")


def root_updates(server: str, *, disabled: bool = False, days: int = 3) -> RootUpdateState:
    return RootUpdateState(source=Source(path=f"{server}/authroot.txt", line=2),
                           server=ServerRef(name=server, basis=ServerBasis.FOLDER), auto_update_disabled=disabled,
                           last_sync=NOW - timedelta(days=days))


def healthy() -> EvidenceSet:
    """A hybrid where every check can run and none fires."""
    return EvidenceSet(
        certificates=(public("EXCAS1"), own("EXCAS1"), public("EXMBX1"), own("EXMBX1")),
        send_connectors=(SendConnector(source=_src("send"), name=SEND, cloud_services_mail_enabled=True,
                                       tls_certificate_name=TLS_NAME, source_transport_servers=("EXMBX1",)),),
        receive_connectors=(ReceiveConnector(source=_src("receive"), identity=RECEIVE,
                                             server=ServerRef(name="EXCAS1", basis=ServerBasis.IDENTITY),
                                             tls_certificate_name=TLS_NAME, auth_mechanism=("Tls", "Integrated"),
                                             tls_domain_capabilities=CLOUD, fqdn="mail.contoso.com"),),
        hybrid_configurations=(HybridConfiguration(source=_src("hybrid"), tls_certificate_name=TLS_NAME,
                                                   receiving_transport_servers=("EXCAS1",),
                                                   sending_transport_servers=("EXMBX1",),
                                                   on_premises_smart_host="mail.contoso.com"),),
        online_connectors=(
            OnlineConnector(source=_src("eo"), direction=ConnectorDirection.OUTBOUND, name="Outbound to Contoso",
                            connector_type="OnPremises", tls_settings="DomainValidation",
                            tls_domain="mail.contoso.com", smart_hosts=("mail.contoso.com",)),
            OnlineConnector(source=_src("eo"), direction=ConnectorDirection.INBOUND, name="Inbound from Contoso",
                            connector_type="OnPremises", tls_sender_certificate_name="*.contoso.com"),
        ),
        transport_services=(TransportService(source=_src("transport"), server="EXCAS1",
                                             internal_transport_certificate_thumbprint=own("EXCAS1").thumbprint),),
        delivery_errors=(DeliveryError(source=_src("queue"), origin="queue EXCAS1\\3",
                                       text="432 4.3.2 STOREDRV.Deliver; recipient thread limit exceeded"),),
        trace_entries=(_trace(TraceStatus.DELIVERED),),
        certificate_files=(LEAF, INTER, ROOT),
        chains=(ChainAnalysis(leaf=LEAF, path=(LEAF, INTER, ROOT), end=ChainEnd.TRUSTED),),
        probes=(probe("mail.contoso.com", "192.0.2.1"), probe("mail.contoso.com", "192.0.2.2")),
        mta_sts=(sts_result(),),
        smtp_sessions=(_session(),), smtp_summaries=(_summary(tls_succeeded=1),),
        tracking_summaries=(TrackingSummary(source=_src("MSGTRK"), server="EXMBX1", events=(("RECEIVE", 4),)),),
        store_certificates=(*stores("EXCAS1"), *stores("EXMBX1")),
        chain_verifications=(verified("EXCAS1"),),
        root_update_states=(root_updates("EXCAS1"), root_updates("EXMBX1")),
    )


EXO_CERT = LoggedCertificate(subject="CN=mail.protection.outlook.com, O=Microsoft Corporation, C=US",
                             issuer="CN=DigiCert Cloud Services CA-1, O=DigiCert Inc, C=US", thumbprint="6B" * 20)


def _session(**changes: object) -> SmtpSession:
    """A send-log session of the hybrid send connector with Exchange Online, TLS 1.2, both certificates."""
    session = SmtpSession(source=_src("SEND"), log_type=SmtpLogType.SEND, session_id="08DE01", server="EXMBX1",
                          connector=SEND, remote_endpoint="52.101.68.10:25", remote_name="am4.mail.protection.outlook.com",
                          first_seen=NOW - timedelta(days=3), last_seen=NOW - timedelta(days=3),
                          tls=TlsOutcome.SUCCEEDED, tls_protocol="TLS1_2",
                          certificate_sent=LoggedCertificate(subject=SUBJECT, issuer=ISSUER, thumbprint=T1),
                          certificate_received=EXO_CERT)
    return replace(session, **changes)  # type: ignore[arg-type]


def _summary(**changes: object) -> SmtpLogSummary:
    summary = SmtpLogSummary(source=_src("SEND"), log_type=SmtpLogType.SEND, server="EXMBX1", connector=SEND,
                             remote_address="52.101.68.10", sessions=1)
    return replace(summary, **changes)  # type: ignore[arg-type]


def tls_failed(error: str, days_ago: int = 3) -> tuple[SmtpSession, SmtpLogSummary]:
    return (_session(tls=TlsOutcome.FAILED, tls_protocol=None, tls_error=error, certificate_received=None,
                     first_seen=NOW - timedelta(days=days_ago), failure=f"TLS negotiation failed with error {error}"),
            _summary(tls_failed=((error, 1),)))


def with_failure(error: str, days_ago: int = 3, **changes: object) -> Case:
    session, summary = tls_failed(error, days_ago)
    return with_(smtp_sessions=(session,), smtp_summaries=(summary,), **changes)


def _trace(status: TraceStatus) -> TraceEntry:
    return TraceEntry(source=_src("trace"), status=status, received=NOW - timedelta(days=2),
                      sender_address="a@contoso.com", recipient_address="b@contoso.com")


def CONTEXT() -> CheckContext:  # noqa: N802 - reads as the constant it stands for
    return CheckContext(now=NOW, expected_names=("mail.contoso.com",),
                        expected_tls_names=(LEAF.tls_certificate_name,))


Case = Callable[[], tuple[EvidenceSet, CheckContext]]


def with_(**changes: object) -> Case:
    """The healthy hybrid with some of its records replaced."""
    return lambda: (replace(healthy(), **changes), CONTEXT())  # type: ignore[arg-type]


def with_context(**changes: object) -> Case:
    return lambda: (healthy(), replace(CONTEXT(), **changes))  # type: ignore[arg-type]


def with_leaf(**changes: object) -> Case:
    leaf = replace(LEAF, **changes)  # type: ignore[arg-type]
    return with_(chains=(ChainAnalysis(leaf=leaf, path=(leaf, INTER, ROOT), end=ChainEnd.TRUSTED),))


def with_sts(policy_text: str = GOOD_POLICY, **changes: object) -> Case:
    return with_(mta_sts=(sts_result(policy_text, **changes),))


DANE_MX_HOST = "contoso-com.o-v1.mx.microsoft"


def with_inbound_dane(result: MtaStsResult) -> Case:
    """Inbound DANE enabled for contoso.com in Exchange Online, beside a probe --mx of it."""
    status = DnssecDomainStatus(source=Source(path="Get-DnssecStatusForVerifiedDomain.txt", line=1),
                                domain_name="contoso.com", feature_status="Enabled", expected_mx=DANE_MX_HOST)
    return with_(mta_sts=(result,), dnssec_statuses=(status,))


def with_probes(*probes: ProbeResult) -> Case:
    return lambda: (replace(healthy(), probes=(*healthy().probes, *probes)), CONTEXT())


def with_tlsa(*records: TlsaRecord, secure: bool = True, chain: tuple[CertificateFile, ...] = ()) -> Case:
    """The healthy hybrid, its MX probed with DANE: these TLSA records, matched against the chain served."""
    served = probe("mail.contoso.com", "192.0.2.1", chain=chain or (LEAF, INTER))
    dane = observe(served, lookup=TlsaLookup.FOUND, secure=secure, records=records, resolver="192.0.2.53")
    return with_(probes=(replace(served, dane=dane),))


def on_both(**changes: object) -> Case:
    return with_(certificates=(public("EXCAS1", **changes), own("EXCAS1"), public("EXMBX1", **changes),
                               own("EXMBX1")))


def with_send(**changes: object) -> Case:
    return with_(send_connectors=(replace(healthy().send_connectors[0], **changes),))  # type: ignore[arg-type]


def with_online(direction: ConnectorDirection, **changes: object) -> Case:
    return with_(online_connectors=tuple(replace(c, **changes) if c.direction is direction else c  # type: ignore[arg-type]
                                         for c in healthy().online_connectors))


def configured(unknown: dict[str, str] | None = None) -> ConfiguredBy:
    """What a Set-SendConnector line in a change ticket says: its name and TlsCertificateName."""
    return ConfiguredBy(command="Set-SendConnector", parameters=("identity", "tlscertificatename"), unknown=unknown or {})


QUIET: Case = lambda: (healthy(), CONTEXT())  # noqa: E731


def event(event_id: int, text: str, computer: str = "EXCAS1.contoso.com",
          provider: str = "MSExchangeFrontEndTransport") -> WindowsEvent:
    return WindowsEvent(source=_src("events"), layout=EventLayout.EVENT_VIEWER, language="en", provider=provider,
                        event_id=event_id, computer=computer, time=NOW - timedelta(days=1), description=text)


NO_CERT_TEXT = ("Microsoft Exchange could not find a certificate that contains the domain name mail.contoso.com in the "
                "personal store on the local computer. Therefore, it is unable to support the STARTTLS SMTP verb for "
                "the connector Default Frontend EXCAS1 with a FQDN parameter of mail.contoso.com. If the connector's "
                "FQDN is not specified, the computer's FQDN is used.")
EXCHANGE_AUTH = event(1035, "Inbound authentication failed with error UnexpectedExchangeAuthBlob for Receive connector "
                            "Default Frontend EXCAS1. The authentication mechanism is ExchangeAuth. The source IP "
                            "address of the client who tried to authenticate to Microsoft Exchange is [10.0.0.5].")
EXPIRING = event(12018, f"The STARTTLS certificate will expire soon: subject: mail.contoso.com, thumbprint: {T1}, "
                        "hours remaining: 100.", "EXMBX1.contoso.com", "MSExchangeTransport")
NOT_LOADED = event(12013, f"Microsoft Exchange could not load the certificate with thumbprint of {'C' * 40} from the "
                          "personal store on the local computer.", "EXMBX1", "MSExchangeTransport")
OAUTH_MISSING = event(2004, f"Unable to find the certificate with thumbprint {'D' * 40} in the current computer or the "
                           "certificate is missing private key. The certificate is needed to sign the outgoing token.",
                      "EXMBX1.contoso.com", "MSExchange OAuth")
UNKNOWN_EVENT = event(12030, "A transport event hybridtls has no entry for.", "EXMBX1", "MSExchangeTransport")


def with_events(*events: WindowsEvent, **changes: object) -> Case:
    return with_(events=events, **changes)
LONG_NAME = f"<I>{ISSUER}<S>CN=mail.contoso.com, OU={'x' * 250}"


def accepted(*domains: str, folder: str = "eo", tenant: str | None = None) -> tuple[AcceptedDomain, ...]:
    return tuple(AcceptedDomain(source=Source(path=f"{folder}/Get-AcceptedDomain.txt", line=n + 3), domain_name=d,
                                side=OrganizationSide.ONLINE, tenant=tenant) for n, d in enumerate(domains))


def inbound(folder: str, sender: str = "mail.contoso.com") -> OnlineConnector:
    return OnlineConnector(source=Source(path=f"{folder}/Get-InboundConnector.txt", line=3),
                           direction=ConnectorDirection.INBOUND, name=f"Inbound from {folder}",
                           connector_type="OnPremises", tls_sender_certificate_name=sender)


TENANTS = (*accepted("contoso.com", "contoso.onmicrosoft.com", folder="a"),
           *accepted("fabrikam.com", "fabrikam.onmicrosoft.com", folder="b"))
SERVER_ONLY = (("Server Authentication", refs.SERVER_AUTH),)

# id: (a case where it fires, the exact (key, severity) of its findings there, a case where it stays quiet)
TABLE: dict[str, tuple[Case, set[tuple[str, str]], Case]] = {
    "HT-ROT-001": (with_(certificates=(public("EXCAS1", not_after=NOW + timedelta(days=300)), public("EXMBX1")),
                         chains=(ChainAnalysis(leaf=replace(LEAF, not_after=NOW + timedelta(days=300)),
                                               path=(LEAF, INTER, ROOT), end=ChainEnd.TRUSTED, anchor_origin="--trust r"),)),
                   {(f"HT-ROT-001|certificate={T1.casefold()}", "info"), (f"HT-ROT-001|certificate={LEAF_KEY}", "info")},
                   QUIET),
    "HT-ROT-002": (with_leaf(extended_key_usage=SERVER_ONLY), {(f"HT-ROT-002|certificate={LEAF_KEY}", "warning")}, QUIET),
    "HT-ROT-003": (with_(accepted_domains=accepted("fabrikam.com", "fabrikam.onmicrosoft.com")),
                   {("HT-ROT-003|connector=inbound from contoso|name=*.contoso.com", "warning"),
                    (f"HT-ROT-003|certificate={T1.casefold()}", "warning")},
                   with_(accepted_domains=accepted("contoso.com", "contoso.onmicrosoft.com"))),
    "HT-ROT-004": (with_(accepted_domains=TENANTS, online_connectors=(inbound("a"), inbound("b"))),
                   {("HT-ROT-004|name=mail.contoso.com", "warning")},
                   with_(accepted_domains=TENANTS, online_connectors=(inbound("a"), inbound("b", "mail.fabrikam.com")))),
    "HT-ROOT-001": (with_(certificates=(public("EXCAS1", root_ca_type=RootCAType.REGISTRY), public("EXMBX1"))),
                    {(f"HT-ROOT-001|server=excas1|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-ROOT-002": (with_(certificates=(public("EXCAS1", root_ca_type=RootCAType.GROUP_POLICY), public("EXMBX1"))),
                    {(f"HT-ROOT-002|server=excas1|certificate={T1.casefold()}", "warning")}, QUIET),
    "HT-STORE-001": (with_(certificates=(public("EXCAS1", root_ca_type=None), public("EXMBX1")),
                           store_certificates=(*stores("EXCAS1", root_in=("Root",)), *stores("EXMBX1"))),
                     {(f"HT-STORE-001|server=excas1|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-STORE-002": (with_(certificates=(public("EXCAS1", root_ca_type=None, services=frozenset({"IIS"})),
                                         public("EXMBX1")),
                           store_certificates=(*stores("EXCAS1", root_in=()), *stores("EXMBX1"))),
                     {(f"HT-STORE-002|server=excas1|certificate={T1.casefold()}", "warning")}, QUIET),
    "HT-STORE-003": (with_(store_certificates=(*stores("EXCAS1"), *stores("EXMBX1", ca=(
                               listed("EXMBX1", "Root", ISSUER, IT),  # in Trusted Root, not in CA
                               listed("EXMBX1", "CA", "CN=Other CA, O=Other, C=US", "8" * 40))))),
                     {(f"HT-STORE-003|server=exmbx1|certificate={T1.casefold()}|name={ISSUER.casefold()}", "warning")},
                     QUIET),
    "HT-STORE-004": (with_(store_certificates=(*stores("EXCAS1"), *stores("EXMBX1", ca=(
                               listed("EXMBX1", "CA", ISSUER, IT, not_after=NOW - timedelta(days=1)),)))),
                     {(f"HT-STORE-004|server=exmbx1|certificate={IT.casefold()}|name={ISSUER.casefold()}", "error")},
                     QUIET),
    "HT-STORE-005": (with_(store_certificates=(*stores("EXCAS1"), *stores("EXMBX1", ca=(
                               listed("EXMBX1", "CA", ISSUER, IT), listed("EXMBX1", "CA", ISSUER, "7" * 40))))),
                     {(f"HT-STORE-005|server=exmbx1|name={ISSUER.casefold()}", "info")}, QUIET),
    "HT-STORE-006": (with_(store_certificates=(*stores("EXCAS1", root_in=("Root",)), *stores("EXMBX1"),
                                               *stores("EXEDGE1", root_in=()))),
                     {(f"HT-STORE-006|name={ROOT_NAME.casefold()}", "warning")}, QUIET),
    "HT-STORE-007": (with_(chain_verifications=(verified("EXCAS1", bits.PARTIAL_CHAIN, bits.REVOCATION_UNKNOWN),
                                                verified("EXMBX1", bits.OFFLINE_REVOCATION))),
                     {(f"HT-STORE-007|server=excas1|certificate={T1.casefold()}", "error"),
                      (f"HT-STORE-007|server=exmbx1|certificate={T1.casefold()}", "warning")}, QUIET),
    "HT-STORE-008": (with_(root_update_states=(root_updates("EXCAS1", disabled=True), root_updates("EXMBX1", days=200))),
                     {("HT-STORE-008|server=excas1", "warning"), ("HT-STORE-008|server=exmbx1", "warning")}, QUIET),
    "HT-STORE-009": (with_(root_update_states=(root_updates("EXCAS1", disabled=True), root_updates("EXMBX1")),
                           store_certificates=(*stores("EXCAS1"), *stores("EXMBX1"))),
                     {("HT-STORE-009|server=excas1", "error")}, QUIET),
    "HT-CERT-001": (on_both(not_after=NOW - timedelta(days=1)), {(f"HT-CERT-001|certificate={T1.casefold()}", "error")},
                    QUIET),
    "HT-CERT-002": (on_both(not_after=NOW + timedelta(days=10)),
                    {(f"HT-CERT-002|certificate={T1.casefold()}", "warning")}, QUIET),
    "HT-CERT-003": (with_(certificates=(public("EXCAS1", status=CertificateStatus.UNTRUSTED), public("EXMBX1"))),
                    {(f"HT-CERT-003|server=excas1|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-CERT-004": (with_(certificates=(public("EXCAS1"), public("EXMBX1", has_private_key=False))),
                    {(f"HT-CERT-004|server=exmbx1|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-CERT-005": (with_(certificates=(public("EXCAS1"), own("EXCAS1"), own("EXMBX1"))),
                    {("HT-CERT-005|server=exmbx1", "error")}, QUIET),
    "HT-CERT-006": (on_both(public_key_size=1024), {(f"HT-CERT-006|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-CERT-007": (with_(certificates=(public("EXCAS1"), own("EXCAS1"), own("EXMBX1"))),
                    {(f"HT-CERT-007|server=exmbx1|certificate={T1.casefold()}", "error")}, QUIET),
    "HT-CHAIN-001": (with_(chains=(ChainAnalysis(leaf=LEAF, path=(LEAF,), end=ChainEnd.MISSING_ISSUER,
                                                 missing_issuer=ISSUER, missing_issuer_urls=LEAF.ca_issuers),)),
                     {(f"HT-CHAIN-001|certificate={LEAF_KEY}", "error")}, QUIET),
    "HT-CHAIN-002": (with_(chains=(ChainAnalysis(leaf=LEAF, path=(LEAF, INTER, ROOT), end=ChainEnd.UNTRUSTED_ROOT),)),
                     {(f"HT-CHAIN-002|certificate={LEAF_KEY}", "error")}, QUIET),
    "HT-CHAIN-003": (with_leaf(not_after=NOW - timedelta(days=1)),
                     {(f"HT-CHAIN-003|certificate={LEAF_KEY}|name={LEAF_KEY}", "error")}, QUIET),
    "HT-CHAIN-004": (with_leaf(signature_hash="sha1"), {(f"HT-CHAIN-004|certificate={LEAF_KEY}|name={LEAF_KEY}", "error")},
                     QUIET),
    "HT-CHAIN-005": (with_leaf(public_key_size=1024),
                     {(f"HT-CHAIN-005|certificate={LEAF_KEY}|name={LEAF_KEY}", "error")}, QUIET),
    "HT-CHAIN-006": (with_leaf(extended_key_usage=(("Client Authentication", "1.3.6.1.5.5.7.3.2"),)),
                     {(f"HT-CHAIN-006|certificate={LEAF_KEY}", "error")}, QUIET),
    "HT-CHAIN-007": (with_context(expected_names=("mail.fabrikam.com",)),
                     {(f"HT-CHAIN-007|certificate={LEAF_KEY}|name=mail.fabrikam.com", "error")}, QUIET),
    "HT-NAME-001": (with_context(expected_tls_names=(f"<I>CN=Other CA<S>{LEAF.subject}", "no tags")),
                    {(f"HT-NAME-001|certificate={LEAF_KEY}|name=<i>cn=other ca<s>{LEAF.subject.casefold()}", "error"),
                     ("HT-NAME-001|name=no tags", "error")}, QUIET),
    "HT-WIRE-001": (with_probes(probe("smtp.contoso.com", "192.0.2.9", ProbeOutcome.REFUSED),
                                probe("smtp.contoso.com", "192.0.2.10", ProbeOutcome.DNS_FAILED)),
                    {("HT-WIRE-001|address=smtp.contoso.com[192.0.2.9]:25", "error"),
                     ("HT-WIRE-001|address=smtp.contoso.com[192.0.2.10]:25", "error")}, QUIET),
    "HT-WIRE-002": (with_probes(probe("smtp.contoso.com", "192.0.2.9", ProbeOutcome.NO_STARTTLS, stage=ProbeStep.EHLO)),
                    {("HT-WIRE-002|address=smtp.contoso.com[192.0.2.9]:25", "error")}, QUIET),
    "HT-WIRE-003": (with_probes(probe("smtp.contoso.com", "192.0.2.9", ProbeOutcome.TLS_FAILED, stage=ProbeStep.HANDSHAKE,
                                      detail="alert handshake failure"),
                                probe("smtp.contoso.com", "192.0.2.10", ProbeOutcome.BUSY, stage=ProbeStep.BANNER,
                                      detail="421 4.3.2 Service not available")),
                    {("HT-WIRE-003|address=smtp.contoso.com[192.0.2.9]:25", "error"),
                     ("HT-WIRE-003|address=smtp.contoso.com[192.0.2.10]:25", "warning")}, QUIET),
    "HT-WIRE-004": (with_probes(probe("smtp.contoso.com", "192.0.2.9", tls_version="TLSv1",
                                      versions_accepted=(("TLSv1", True), ("TLSv1.2", False)))),
                    {("HT-WIRE-004|address=smtp.contoso.com[192.0.2.9]:25", "error")}, QUIET),
    "HT-WIRE-005": (with_probes(probe("mail.fabrikam.com", "192.0.2.9")),
                    {("HT-WIRE-005|address=mail.fabrikam.com[192.0.2.9]:25", "error")}, QUIET),
    "HT-WIRE-006": (with_probes(probe("mail.contoso.com", "192.0.2.3", chain=(OTHER,))),
                    {("HT-WIRE-006|name=mail.contoso.com:25", "error")}, QUIET),
    "HT-STS-001": (with_sts(mx=("mail.contoso.com", "mx2.contoso.com")), {("HT-STS-001|name=contoso.com", "error")},
                   QUIET),
    "HT-STS-002": (with_sts(fetch=PolicyFetch.CONTENT_TYPE, fetch_detail="text/html", policy=None),
                   {("HT-STS-002|name=contoso.com", "warning")}, QUIET),
    "HT-STS-003": (with_sts(host_name_covered=False),
                   {(f"HT-STS-003|certificate={STS_LEAF_KEY}|name=contoso.com", "error")}, QUIET),
    "HT-STS-004": (with_sts(GOOD_POLICY.replace("enforce", "testing")), {("HT-STS-004|name=contoso.com", "info")},
                   QUIET),
    "HT-STS-005": (with_sts(tlsrpt_record=read_tlsrpt_record("_smtp._tls.contoso.com", [])[0]),
                   {("HT-STS-005|name=contoso.com", "info")}, QUIET),
    "HT-STS-006": (with_inbound_dane(sts_result()), {("HT-STS-006|name=contoso.com", "error")},
                   with_inbound_dane(sts_result(GOOD_POLICY + f"mx: {DANE_MX_HOST}\n", mx=(DANE_MX_HOST,)))),
    "HT-CONN-001": (with_send(tls_certificate_name=None),
                    {("HT-CONN-001|connector=outbound to office 365|name=tlscertificatename", "error")}, QUIET),
    "HT-CONN-002": (with_(receive_connectors=(replace(healthy().receive_connectors[0], auth_mechanism=("Integrated",)),)),
                    {(f"HT-CONN-002|server=excas1|connector={RECEIVE.casefold()}|name=authmechanism", "error")}, QUIET),
    "HT-CONN-003": (with_(certificates=(*healthy().certificates,
                                        public("EXCAS1", thumbprint="B" * 40, services=frozenset({"IIS"}),
                                               not_before=NOW - timedelta(days=1)))),
                    {(f"HT-CONN-003|server=excas1|connector={RECEIVE.casefold()}", "error")}, QUIET),
    "HT-CONN-004": (with_(hybrid_configurations=(replace(healthy().hybrid_configurations[0],
                                                         tls_certificate_name="<I>CN=Other CA<S>CN=mail.contoso.com"),)),
                    {("HT-CONN-004|connector=outbound to office 365", "error"),
                     (f"HT-CONN-004|connector={RECEIVE.casefold()}", "error"),
                     ("HT-CONN-004|server=excas1|connector=hybridconfiguration|name=receiving", "error"),
                     ("HT-CONN-004|server=exmbx1|connector=hybridconfiguration|name=sending", "error")}, QUIET),
    "HT-CONN-005": (with_online(ConnectorDirection.OUTBOUND, tls_domain="smtp.fabrikam.com"),
                    {("HT-CONN-005|connector=outbound to contoso|name=tlsdomain", "error")}, QUIET),
    "HT-CONN-006": (with_online(ConnectorDirection.INBOUND, tls_sender_certificate_name="fabrikam.com"),
                    {("HT-CONN-006|connector=inbound from contoso", "error")}, QUIET),
    "HT-CONN-007": (with_send(tls_certificate_name=LONG_NAME),
                    {("HT-CONN-007|connector=outbound to office 365", "warning")}, QUIET),
    "HT-CONN-008": (with_(transport_services=(TransportService(source=_src("transport"), server="EXCAS1",
                                                               internal_transport_certificate_thumbprint="0" * 40),)),
                    {("HT-CONN-008|server=excas1", "error")}, QUIET),
    "HT-ERR-001": (with_(delivery_errors=(DeliveryError(source=_src("queue"), origin="queue EXCAS1\\3",
                                                        text="451 5.7.3 STARTTLS is required to send mail"),)),
                   {("HT-ERR-001|name=the on-premises server did not offer starttls", "error")}, QUIET),
    "HT-QUEUE-001": (with_(queues=(MailQueue(source=_src("queue"), identity="EXCAS1\\9", server="EXCAS1",
                                             status="Suspended", message_count=14),)),
                     {("HT-QUEUE-001|server=excas1|name=queue excas1\\9", "warning")},
                     with_(queues=(MailQueue(source=_src("queue"), identity="EXCAS1\\9", server="EXCAS1", status="Ready",
                                             message_count=2, last_error="451 4.4.0 DNS query failed"),))),
    "HT-CMD-001": (with_send(tls_certificate_name=TLS_NAME.replace("<S>", "\\<S>")),
                   {("HT-CMD-001|connector=outbound to office 365|name=tlscertificatename", "error")}, QUIET),
    "HT-CMD-002": (with_send(tls_certificate_name=None, configured_by=configured(unknown={"tlscertificatename": "$Name"})),
                   {("HT-CMD-002|connector=outbound to office 365|name=tlscertificatename", "warning")},
                   with_send(configured_by=configured())),
    "HT-CMD-003": (with_send(tls_certificate_name="<I>CN=Other CA<S>" + SUBJECT, configured_by=configured()),
                   {("HT-CMD-003|connector=outbound to office 365|name=tlscertificatename", "error")},
                   with_send(configured_by=configured())),
    "HT-TRACE-001": (with_(trace_entries=(_trace(TraceStatus.PENDING),)), {("HT-TRACE-001|name=pending", "warning")},
                     QUIET),
    "HT-TRACE-002": (lambda: (replace(on_both(not_before=NOW - timedelta(days=10))()[0],
                                      trace_entries=(_trace(TraceStatus.PENDING),)), CONTEXT()),
                     {(f"HT-TRACE-002|certificate={T1.casefold()}", "warning")},
                     with_(trace_entries=(_trace(TraceStatus.PENDING),))),
    "HT-EVT-001": (with_events(event(12014, NO_CERT_TEXT), certificates=(
        public("EXCAS1", root_ca_type=RootCAType.REGISTRY), public("EXMBX1"))),
        {("HT-EVT-001|server=excas1|connector=default frontend excas1|name=mail.contoso.com", "error")},
        with_events(EXCHANGE_AUTH)),
    "HT-EVT-002": (with_events(EXPIRING),
                   {(f"HT-EVT-002|server=exmbx1|certificate={T1.casefold()}|name=12018:mail.contoso.com", "warning")},
                   with_events(EXCHANGE_AUTH)),
    "HT-EVT-003": (with_events(NOT_LOADED), {(f"HT-EVT-003|server=exmbx1|name=12013:{'c' * 40}", "error")},
                   with_events(EXCHANGE_AUTH)),
    "HT-EVT-004": (with_events(EXCHANGE_AUTH),
                   {("HT-EVT-004|server=excas1|connector=default frontend excas1|name=unexpectedexchangeauthblob:"
                     "exchangeauth", "warning")}, with_events(EXPIRING)),
    "HT-EVT-006": (with_events(event(36888, "A fatal alert was generated and sent to the remote endpoint. This may "
                                            "result in termination of the connection. The TLS protocol defined fatal "
                                            "error code is 40. The Windows SChannel error state is 1205.",
                                     provider="Schannel")),
                   {("HT-EVT-006|server=excas1|name=schannel:36888:40", "warning")}, with_events(EXPIRING)),
    "HT-EVT-005": (with_events(UNKNOWN_EVENT, EXPIRING), {("HT-EVT-005|name=msexchangetransport:12030", "warning")},
                   with_events(EXPIRING, NOT_LOADED, EXCHANGE_AUTH, event(12014, NO_CERT_TEXT), OAUTH_MISSING)),
    "HT-EVT-007": (with_events(OAUTH_MISSING), {(f"HT-EVT-007|server=exmbx1|certificate={'d' * 40}|name=2004", "error")},
                   with_events(EXPIRING)),
    "HT-LOG-001": (with_failure("UnknownCredentials"),
                   {("HT-LOG-001|server=exmbx1|connector=outbound to office 365|name=unknowncredentials", "error")},
                   with_failure("SomethingNew")),
    "HT-LOG-002": (with_failure("SomethingNew"),
                   {("HT-LOG-002|server=exmbx1|connector=outbound to office 365|name=somethingnew", "warning")},
                   with_failure("NoCredentials")),
    "HT-LOG-003": (with_failure("UnknownCredentials", 9, certificates=(public("EXCAS1"), own("EXCAS1"),
                                                                       public("EXMBX1", not_before=NOW - timedelta(days=10)),
                                                                       own("EXMBX1"))),
                   {(f"HT-LOG-003|server=exmbx1|certificate={T1.casefold()}|connector=outbound to office 365"
                     "|name=unknowncredentials", "warning")}, with_failure("UnknownCredentials", 9)),
    "HT-LOG-004": (with_(smtp_sessions=(_session(certificate_received=LoggedCertificate(
                        subject="CN=fw.contoso.com", issuer="CN=Firewall CA", thumbprint="F0" * 20)),)),
                   {("HT-LOG-004|server=exmbx1|certificate=" + "f0" * 20 + "|connector=outbound to office 365"
                     "|address=am4.mail.protection.outlook.com", "warning")}, QUIET),
    "HT-LOG-005": (with_(delivery_errors=(DeliveryError(source=_src("MSGTRK"), origin="message tracking log EXMBX1",
                                                        text="550 5.9.99 QUUX.Unheard; nobody knows"),)),
                   {("HT-LOG-005|name=550 5.9.99 quux.unheard; nobody knows", "warning")},
                   with_(delivery_errors=(DeliveryError(source=_src("MSGTRK"), origin="message tracking log EXMBX1",
                                                        text="451 4.4.316 Connection refused"),))),
    "HT-DANE-001": (with_tlsa(TlsaRecord(usage=3, selector=1, matching_type=1, data_hex="00" * 32, source=_src("dns"))),
                    {("HT-DANE-001|address=mail.contoso.com[192.0.2.1]:25", "error")}, with_tlsa(tlsa_for(LEAF))),
    "HT-DANE-002": (with_tlsa(tlsa_for(LEAF), secure=False), {("HT-DANE-002|name=_25._tcp.mail.contoso.com", "warning")},
                    with_tlsa(tlsa_for(LEAF))),
    "HT-DANE-003": (with_tlsa(tlsa_for(LEAF), chain=(replace(LEAF, not_after=LEAF.not_before + timedelta(days=1)), INTER)),
                    {("HT-DANE-003|address=mail.contoso.com[192.0.2.1]:25", "warning")}, with_tlsa(tlsa_for(LEAF))),
    "HT-LOG-006": (with_(smtp_summaries=(_summary(sessions=4, sessions_cut=3, tls_succeeded=1),)),
                   {("HT-LOG-006|server=exmbx1|connector=outbound to office 365", "info")},
                   with_(smtp_summaries=(_summary(sessions=4, sessions_unfinished=3, tls_succeeded=1),))),
}


def test_ids_are_unique_and_well_formed() -> None:
    assert len(CHECKS) == len(CHECKS_BY_ID)
    assert all(re.fullmatch(r"HT-[A-Z]+-\d{3}", check.id) for check in CHECKS)


def test_the_table_covers_every_check() -> None:
    assert set(TABLE) == set(CHECKS_BY_ID), "give every check a firing and a quiet case"


def _run(case: Case, check_id: str) -> tuple[CheckStatus, set[tuple[str, str]], str]:
    evidence, ctx = case()
    [outcome] = run_checks(evidence, ctx, (CHECKS_BY_ID[check_id],))
    return outcome.status, {(f.key, f.severity.value) for f in outcome.findings}, outcome.reason


@pytest.mark.parametrize("check_id", sorted(TABLE))
def test_fires(check_id: str) -> None:
    fires, expected, _ = TABLE[check_id]
    status, found, reason = _run(fires, check_id)
    assert (status, found) == (CheckStatus.FIRED, expected), reason


@pytest.mark.parametrize("check_id", sorted(TABLE))
def test_stays_quiet(check_id: str) -> None:
    _, _, quiet = TABLE[check_id]
    status, found, reason = _run(quiet, check_id)
    assert (status, found) == (CheckStatus.PASSED, set()), reason


def test_every_finding_says_what_it_is_about() -> None:
    for fires, _, _ in TABLE.values():
        evidence, ctx = fires()
        for outcome in run_checks(evidence, ctx):
            assert all(f.about.parts() for f in outcome.findings), outcome.check_id
            keys = [f.key for f in outcome.findings]
            assert len(keys) == len(set(keys)), f"{outcome.check_id}: two findings with one key {keys}"


@pytest.mark.parametrize("check", [c for c in CHECKS if isinstance(c.needs, Needs)], ids=lambda c: c.id)
def test_without_its_needs_a_check_is_not_applicable_and_says_what_to_collect(check) -> None:  # type: ignore[no-untyped-def]
    [outcome] = run_checks(EvidenceSet(), CheckContext(now=NOW), (check,))
    assert outcome.status is CheckStatus.NOT_APPLICABLE
    assert outcome.reason == "; ".join(need.reason for need in check.needs.requirements)


def test_commands_come_from_the_family_declarations() -> None:
    assert [c.id for c in checks_for("check")] == [c.id for c in CHECKS]
    assert {c.id.split("-")[1] for c in checks_for(Command.CERT)} == {"CHAIN", "NAME", "ROT"}
    assert {c.id.split("-")[1] for c in checks_for("probe")} == {"CHAIN", "NAME", "WIRE", "DANE", "STS"}
    assert {c.id.split("-")[1] for c in checks_for("plan")} == {"CHAIN"}
    assert checks_for("watch") == ()
    assert {f.name for f in FAMILIES} == {"roots", "certificates", "chain", "tlsnames", "wire", "connectors", "errors", "queues",
                                          "mailflow", "configured", "events", "logs", "stores", "dane",
                                          "mtasts", "rotation", "tenants"}
    with pytest.raises(ValueError):
        checks_for("nonsense")



def test_a_requirement_that_crashes_is_that_check_crashing() -> None:
    from hybridtls.checks import Check, Need
    from hybridtls.model import Severity

    broken = Need(what="x", reason="x", present=lambda e, c: 1 / 0 > 0)
    check = Check(id="HT-TEST-998", title="t", severity=Severity.ERROR, needs=Needs((broken,)), explanation="",
                  remediation="", references=(), run=lambda e, c: ())
    [outcome] = run_checks(EvidenceSet(), CheckContext(now=NOW), (check,))
    assert outcome.status is CheckStatus.CRASHED and "ZeroDivisionError" in outcome.reason
