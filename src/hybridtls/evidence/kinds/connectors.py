"""The connector side of the hybrid: send and receive connectors, the hybrid configuration, Exchange Online's
inbound and outbound connectors, and the transport service's internal certificate."""

from __future__ import annotations

from hybridtls.evidence.kinds.base import BuildContext, _bool, _items, _kind, _server, _text
from hybridtls.evidence.kinds.domains import record_tenant
from hybridtls.evidence.raw import RawRecord
from hybridtls.model import (
    ConnectorDirection,
    HybridConfiguration,
    OnlineConnector,
    ReceiveConnector,
    SendConnector,
    TransportService,
)


def build_send_connector(record: RawRecord, ctx: BuildContext) -> SendConnector:
    return SendConnector(
        source=record.source, field_lines=record.lines,
        name=_text(record, ctx, "Name", "Identity", trusted=False) or "(unnamed send connector)",
        enabled=_bool(record, ctx, "Enabled"), fqdn=_text(record, ctx, "Fqdn"),
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        require_tls=_bool(record, ctx, "RequireTLS"), tls_auth_level=_text(record, ctx, "TlsAuthLevel"),
        tls_domain=_text(record, ctx, "TlsDomain"), smart_hosts=_items(record, ctx, "SmartHosts", "SmartHostsString"),
        address_spaces=_items(record, ctx, "AddressSpaces"),
        cloud_services_mail_enabled=_bool(record, ctx, "CloudServicesMailEnabled"),
        source_transport_servers=_items(record, ctx, "SourceTransportServers"),
    )


def build_receive_connector(record: RawRecord, ctx: BuildContext) -> ReceiveConnector:
    return ReceiveConnector(
        source=record.source, field_lines=record.lines,
        identity=_text(record, ctx, "Identity", "Name", trusted=False) or "(unnamed receive connector)",
        server=_server(record, ctx), enabled=_bool(record, ctx, "Enabled"), fqdn=_text(record, ctx, "Fqdn"),
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        auth_mechanism=_items(record, ctx, "AuthMechanism"),
        tls_domain_capabilities=_items(record, ctx, "TlsDomainCapabilities"),
        bindings=_items(record, ctx, "Bindings"), transport_role=_text(record, ctx, "TransportRole"),
    )


def build_hybrid_configuration(record: RawRecord, ctx: BuildContext) -> HybridConfiguration:
    return HybridConfiguration(
        source=record.source, field_lines=record.lines,
        tls_certificate_name=_text(record, ctx, "TlsCertificateName"),
        receiving_transport_servers=_items(record, ctx, "ReceivingTransportServers"),
        sending_transport_servers=_items(record, ctx, "SendingTransportServers"),
        edge_transport_servers=_items(record, ctx, "EdgeTransportServers"),
        domains=_items(record, ctx, "Domains"), on_premises_smart_host=_text(record, ctx, "OnPremisesSmartHost"),
        features=_items(record, ctx, "Features"),
    )


def _online_connector(record: RawRecord, ctx: BuildContext, direction: ConnectorDirection) -> OnlineConnector:
    return OnlineConnector(
        source=record.source, field_lines=record.lines, direction=direction,
        name=_text(record, ctx, "Name", "Identity", trusted=False) or f"(unnamed {direction.value} connector)",
        enabled=_bool(record, ctx, "Enabled"), connector_type=_text(record, ctx, "ConnectorType"),
        cloud_services_mail_enabled=_bool(record, ctx, "CloudServicesMailEnabled"),
        smart_hosts=_items(record, ctx, "SmartHosts"), tls_domain=_text(record, ctx, "TlsDomain"),
        tls_settings=_text(record, ctx, "TlsSettings"), recipient_domains=_items(record, ctx, "RecipientDomains"),
        tls_sender_certificate_name=_text(record, ctx, "TlsSenderCertificateName"),
        require_tls=_bool(record, ctx, "RequireTls"),
        restrict_domains_to_certificate=_bool(record, ctx, "RestrictDomainsToCertificate"),
        smtp_dane_mode=_text(record, ctx, "SmtpDaneMode"), mta_sts_mode=_text(record, ctx, "MtaStsMode"),
        tenant=record_tenant(record, ctx),
    )


def build_outbound_connector(record: RawRecord, ctx: BuildContext) -> OnlineConnector:
    return _online_connector(record, ctx, ConnectorDirection.OUTBOUND)


def build_inbound_connector(record: RawRecord, ctx: BuildContext) -> OnlineConnector:
    return _online_connector(record, ctx, ConnectorDirection.INBOUND)


def build_transport_service(record: RawRecord, ctx: BuildContext) -> TransportService:
    server = _text(record, ctx, "Name", "Identity", "Server", trusted=False) or (ctx.server.name if ctx.server else "?")
    return TransportService(source=record.source, server=server,
                            internal_transport_certificate_thumbprint=_text(
                                record, ctx, "InternalTransportCertificateThumbprint"))


SEND_CONNECTOR = _kind(
    "SendConnector", (("AddressSpaces",), ("SmartHosts", "DNSRoutingEnabled", "SourceTransportServers")),
    ("TlsCertificateName", "TlsAuthLevel", "TlsDomain", "RequireTLS", "CloudServicesMailEnabled", "Fqdn"),
    build_send_connector, ("SmtpSendConnectorConfig", "SendConnector"))


RECEIVE_CONNECTOR = _kind(
    "ReceiveConnector", (("Bindings",), ("AuthMechanism", "PermissionGroups", "RemoteIPRanges")),
    ("TlsCertificateName", "TlsDomainCapabilities", "TransportRole", "Fqdn", "Banner"), build_receive_connector)


HYBRID_CONFIGURATION = _kind(
    "HybridConfiguration", (("ReceivingTransportServers", "SendingTransportServers"),
                            ("Features", "Domains", "OnPremisesSmartHost", "TlsCertificateName")),
    ("TlsCertificateName", "OnPremisesSmartHost", "Domains", "Features", "EdgeTransportServers"),
    build_hybrid_configuration)


OUTBOUND_CONNECTOR = _kind(
    "OutboundConnector", (("RecipientDomains", "RouteAllMessagesViaOnPremises"), ("ConnectorType",),
                          ("SmartHosts", "UseMXRecord", "TlsSettings")),
    ("TlsDomain", "TlsSettings", "IsTransportRuleScoped", "AllAcceptedDomains", "IsValidated", "SmtpDaneMode",
     "MtaStsMode"),
    build_outbound_connector, ("TenantOutboundConnector", "OutboundConnector"))


INBOUND_CONNECTOR = _kind(
    "InboundConnector", (("SenderDomains", "SenderIPAddresses", "TlsSenderCertificateName"), ("ConnectorType",),
                         ("RequireTls", "RestrictDomainsToCertificate", "TlsSenderCertificateName")),
    ("TlsSenderCertificateName", "RestrictDomainsToIPAddresses", "TreatMessagesAsInternal", "EFSkipIPs"),
    build_inbound_connector, ("TenantInboundConnector", "InboundConnector"))


TRANSPORT_SERVICE = _kind(
    "TransportService", (("InternalTransportCertificateThumbprint",),), ("Name", "Identity"), build_transport_service)
