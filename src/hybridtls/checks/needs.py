"""What checks need from the evidence, declared once: each a test, the thing in words, and what to collect.

Checks declare ``needs=needs(ROOT_CA_TYPE, ...)``; ``run_checks`` tests them and says, for a check that cannot run,
which of these is missing and how to get it.
"""

from __future__ import annotations

from hybridtls.checks.base import Need
from hybridtls.checks.estate import estate_servers, group_certificates
from hybridtls.model import ConnectorDirection
from hybridtls.pki.hostnames import is_address

_CERTS_FL = "save 'Get-ExchangeCertificate | Format-List' from each server"


def _certificate_field(field: str, label: str) -> Need:
    return Need(what=f"{label} (Get-ExchangeCertificate | Format-List)", reason=f"no {label} in the evidence: {_CERTS_FL}",
                present=lambda e, c: any(getattr(cert, field) is not None for cert in e.certificates))


CERTIFICATES = Need(what="Get-ExchangeCertificate output", reason=f"no certificates in the evidence: {_CERTS_FL}",
                    present=lambda e, c: bool(e.certificates))
SERVER_CERTIFICATES = Need(
    what="Get-ExchangeCertificate output attributed to a server",
    reason="save each server's output under a folder named after it, or with -Server on the command line",
    present=lambda e, c: bool(estate_servers(e.certificates)))
TWO_SERVERS = Need(what="Get-ExchangeCertificate output from two or more servers",
                   reason=f"certificate evidence from fewer than two servers: {_CERTS_FL}",
                   present=lambda e, c: len(estate_servers(e.certificates)) >= 2)
ROOT_CA_TYPE = _certificate_field("root_ca_type", "RootCAType")
STATUS = _certificate_field("status", "Status")
HAS_PRIVATE_KEY = _certificate_field("has_private_key", "HasPrivateKey")
PUBLIC_KEY_SIZE = Need(what="PublicKeySize (Get-ExchangeCertificate | Format-List)",
                       reason=f"no PublicKeySize in the evidence: {_CERTS_FL}",
                       present=lambda e, c: any(cert.public_key_size for cert in e.certificates))
NOT_AFTER = Need(what="NotAfter dates (Get-ExchangeCertificate | Format-List)",
                 reason=f"no NotAfter dates in the evidence: {_CERTS_FL}",
                 present=lambda e, c: any(cert.possible_not_after for cert in e.certificates))
CA_NOT_BEFORE = Need(what="NotBefore dates of CA-issued certificates (Get-ExchangeCertificate | Format-List)",
                     reason=f"no NotBefore dates of CA-issued certificates in the evidence: {_CERTS_FL}",
                     present=lambda e, c: any(cert.possible_not_before for g in group_certificates(e.certificates)
                                              if g.is_ca_issued for cert in g.observations))
HYBRID_SEND_CONNECTOR = Need(
    what="a hybrid send connector (Get-SendConnector)",
    reason="no hybrid send connector in the evidence: save Get-SendConnector | Format-List",
    present=lambda e, c: any(s.is_hybrid for s in e.send_connectors))
CLOUD_RECEIVE_CONNECTOR = Need(
    what="a receive connector for Office 365 mail (Get-ReceiveConnector)",
    reason=("no receive connector with TlsDomainCapabilities AcceptCloudServicesMail in the evidence: save "
             "Get-ReceiveConnector | Format-List"),
    present=lambda e, c: any(r.accepts_cloud_mail for r in e.receive_connectors))
HYBRID_CONFIGURATION = Need(
    what="Get-HybridConfiguration output",
    reason="no Get-HybridConfiguration output in the evidence: save Get-HybridConfiguration | Format-List",
    present=lambda e, c: bool(e.hybrid_configurations))
TLS_CERTIFICATE_NAME = Need(
    what="a TlsCertificateName (Get-SendConnector or Get-HybridConfiguration)",
    reason="no TlsCertificateName in the evidence: save Get-SendConnector and Get-HybridConfiguration | Format-List",
    present=lambda e, c: any(s.tls_certificate_name for s in e.send_connectors)
    or any(h.tls_certificate_name for h in e.hybrid_configurations))
ONLINE_OUTBOUND = Need(
    what="Exchange Online's outbound connector to on-premises (Get-OutboundConnector)",
    reason=("no Exchange Online outbound connector of type OnPremises in the evidence: save Get-OutboundConnector "
             "| Format-List in Exchange Online PowerShell"),
    present=lambda e, c: any(o.direction is ConnectorDirection.OUTBOUND and o.is_hybrid for o in e.online_connectors))
ONLINE_INBOUND = Need(
    what="Exchange Online's inbound connector from on-premises, with TlsSenderCertificateName (Get-InboundConnector)",
    reason=("no Exchange Online inbound OnPremises connector with TlsSenderCertificateName in the evidence: save "
             "Get-InboundConnector | Format-List in Exchange Online PowerShell"),
    present=lambda e, c: any(o.direction is ConnectorDirection.INBOUND and o.is_hybrid and o.tls_sender_certificate_name
                             for o in e.online_connectors))
TRANSPORT_SERVICE = Need(
    what="InternalTransportCertificateThumbprint (Get-TransportService)",
    reason="no Get-TransportService output in the evidence: save Get-TransportService | Format-List Name, "
            "InternalTransportCertificateThumbprint",
    present=lambda e, c: any(t.internal_transport_certificate_thumbprint for t in e.transport_services))
DELIVERY_ERRORS = Need(
    what="queue errors or message trace details (Get-Queue, Get-MessageTraceDetail)",
    reason="no queue errors (Get-Queue) or message trace details (Get-MessageTraceDetail) in the evidence",
    present=lambda e, c: bool(e.delivery_errors))
MESSAGE_TRACE = Need(what="Exchange Online's message trace (Get-MessageTrace)",
                     reason="no Get-MessageTrace output in the evidence: save Get-MessageTraceV2 | Format-List",
                     present=lambda e, c: bool(e.trace_entries))
CHAINS = Need(what="certificates to build chains from (certificate files, or a probe's presented chain)",
              reason="no certificates in the evidence: give certificate files, or probe the server",
              present=lambda e, c: bool(e.chains))
EXPECTED_NAMES = Need(what="a host name the certificate must cover (--name)",
                      reason="no host name to check: give --name HOST (the outbound connector's TlsDomain)",
                      present=lambda e, c: bool(c.expected_names))
EXPECTED_TLS_NAMES = Need(
    what="a TlsCertificateName to compare with (--tls-certificate-name, --expect-cert)",
    reason="no TlsCertificateName to compare with: give cert --tls-certificate-name or probe --expect-cert",
    present=lambda e, c: bool(c.expected_tls_names))
PROBES = Need(what="probe results (hybridtls probe)",
              reason="no probe results: run hybridtls probe, or give its saved JSON to check",
              present=lambda e, c: bool(e.probes))
PROBED_NAME_WITH_CERTIFICATE = Need(
    what="a probe of a host name that got as far as a certificate",
    reason="no probe of a name got as far as a certificate: probe the name (for an address, give --expect-name)",
    present=lambda e, c: any(p.chain and not is_address(p.expected_name) for p in e.probes))
NAME_WITH_SEVERAL_ADDRESSES = Need(
    what="a probe of a name with several addresses",
    reason="no name with more than one address was probed: probe the smart host or MX name, not one address",
    present=lambda e, c: any(
        sum(1 for q in e.probes if q.address and q.host != q.address and (q.host, q.port) == (p.host, p.port)) > 1
        for p in e.probes if p.address and p.host != p.address))
STORE_LISTINGS = Need(
    what="certificate store listings (Get-ChildItem Cert:\\LocalMachine\\<Store>, certutil -store, reg query)",
    reason="no certificate store listings in the evidence: save Get-ChildItem Cert:\\LocalMachine\\AuthRoot, "
           "...\\Root and ...\\CA | Format-List from each server",
    present=lambda e, c: bool(e.store_certificates))
CA_STORE_LISTING = Need(
    what="a listing of the Intermediate Certification Authorities store (Cert:\\LocalMachine\\CA)",
    reason="no listing of the CA store in the evidence: save Get-ChildItem Cert:\\LocalMachine\\CA | Format-List "
           "from each server",
    present=lambda e, c: any(s.store == "CA" for s in e.store_certificates))
CHAIN_VERIFICATIONS = Need(
    what="certutil -verify -urlfetch output",
    reason="no certutil -verify output in the evidence: save certutil -verify -urlfetch <certificate.cer> from "
           "each server",
    present=lambda e, c: bool(e.chain_verifications))
ROOT_UPDATE_STATES = Need(
    what="the AuthRoot trust list's state (certutil -verifyctl AuthRoot, reg query ...\\AuthRoot)",
    reason="no AuthRoot state in the evidence: save certutil -verifyctl AuthRoot | findstr /i LastSyncTime and "
           "reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\AuthRoot from each server",
    present=lambda e, c: bool(e.root_update_states))
MTA_STS = Need(what="MTA-STS lookups (hybridtls probe --mx DOMAIN)",
               reason="no MTA-STS lookup: run hybridtls probe --mx DOMAIN, or give its saved JSON to check",
               present=lambda e, c: bool(e.mta_sts))
MTA_STS_POLICY = Need(
    what="an MTA-STS policy fetched and read (hybridtls probe --mx DOMAIN)",
    reason="no MTA-STS policy was fetched and read: run hybridtls probe --mx DOMAIN (or give its saved JSON to "
           "check); a domain that publishes none, or whose policy could not be fetched, has none to match",
    present=lambda e, c: any(r.policy and r.policy.valid for r in e.mta_sts))
MTA_STS_HOST = Need(
    what="the MTA-STS policy host's certificate (hybridtls probe --mx DOMAIN)",
    reason="no MTA-STS policy host presented a certificate: run hybridtls probe --mx DOMAIN (or give its saved "
           "JSON to check); a domain that publishes no policy, or whose host was not reached, has none",
    present=lambda e, c: any(r.host_chain for r in e.mta_sts))
INBOUND_DANE = Need(
    what="Get-DnssecStatusForVerifiedDomain output (Exchange Online) beside a probe --mx of the domain",
    reason="no Get-DnssecStatusForVerifiedDomain output in the evidence: save Get-DnssecStatusForVerifiedDomain "
           "-DomainName <Domain> | Format-List, and give it to check with the saved probe --mx JSON",
    present=lambda e, c: bool(e.dnssec_statuses) and bool(e.mta_sts))
