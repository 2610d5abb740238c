"""Connector checks: a healthy HCW-configured hybrid is quiet; each drift fires with the object and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import auth_certificate, certificate, format_list, judge, self_signed, triples

from hybridtls.model import CheckStatus

ISSUER = "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US"
SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US"
TLS_NAME = f"<I>{ISSUER}<S>{SUBJECT}"


def send_connector(**overrides: str) -> dict[str, str]:
    record = {
        "Name": "Outbound to Office 365 - 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f",
        "AddressSpaces": "{smtp:contoso.mail.onmicrosoft.com;1}",
        "CloudServicesMailEnabled": "True",
        "DNSRoutingEnabled": "True",
        "Enabled": "True",
        "Fqdn": "mail.contoso.com",
        "RequireTLS": "True",
        "SmartHosts": "{}",
        "SourceTransportServers": "{EXMBX1}",
        "TlsAuthLevel": "DomainValidation",
        "TlsCertificateName": TLS_NAME,
        "TlsDomain": "mail.protection.outlook.com",
    }
    record.update(overrides)
    return record


def receive_connector(server: str, **overrides: str) -> dict[str, str]:
    record = {
        "Identity": f"{server}\\Default Frontend {server}",
        "AuthMechanism": "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer",
        "Bindings": "{[::]:25, 0.0.0.0:25}",
        "Enabled": "True",
        "Fqdn": f"{server.lower()}.contoso.local",
        "PermissionGroups": "AnonymousUsers, ExchangeServers, ExchangeLegacyServers",
        "TlsCertificateName": TLS_NAME,
        "TlsDomainCapabilities": "{mail.protection.outlook.com:AcceptCloudServicesMail}",
        "TransportRole": "FrontendTransport",
    }
    record.update(overrides)
    return record


def hybrid_configuration(**overrides: str) -> dict[str, str]:
    record = {
        "Domains": "{contoso.com}",
        "Features": "{FreeBusy, MoveMailbox, Mailtips, MessageTracking, OwaRedirection, OnlineArchive, SecureMail, Photos}",
        "OnPremisesSmartHost": "mail.contoso.com",
        "ReceivingTransportServers": "{EXCAS1}",
        "SendingTransportServers": "{EXMBX1}",
        "EdgeTransportServers": "{}",
        "TlsCertificateName": TLS_NAME,
    }
    record.update(overrides)
    return record


def outbound(**overrides: str) -> dict[str, str]:
    record = {
        "Name": "Outbound to 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f", "Enabled": "True", "UseMXRecord": "False",
        "ConnectorType": "OnPremises", "ConnectorSource": "HybridWizard", "RecipientDomains": "{contoso.com}",
        "SmartHosts": "{mail.contoso.com}", "TlsDomain": "mail.contoso.com", "TlsSettings": "DomainValidation",
        "IsTransportRuleScoped": "False", "RouteAllMessagesViaOnPremises": "False", "CloudServicesMailEnabled": "True",
    }
    record.update(overrides)
    return record


def inbound(**overrides: str) -> dict[str, str]:
    record = {
        "Name": "Inbound from 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f", "Enabled": "True", "ConnectorType": "OnPremises",
        "ConnectorSource": "HybridWizard", "SenderDomains": "{smtp:*;1}", "SenderIPAddresses": "{}",
        "RequireTls": "True", "RestrictDomainsToCertificate": "False", "CloudServicesMailEnabled": "True",
        "TlsSenderCertificateName": "mail.contoso.com",
    }
    record.update(overrides)
    return record


def write_estate(root: Path, *, certs: dict[str, list[dict[str, str]]] | None = None,
                 send: dict[str, str] | None = None, receive: list[dict[str, str]] | None = None,
                 hybrid: dict[str, str] | None = None, eo_out: dict[str, str] | None = None,
                 eo_in: dict[str, str] | None = None) -> Path:
    certs = certs if certs is not None else {
        "EXCAS1": [certificate(), self_signed("EXCAS1"), auth_certificate()],
        "EXMBX1": [certificate(), self_signed("EXMBX1"), auth_certificate()],
    }
    for server, records in certs.items():
        (root / server).mkdir(parents=True, exist_ok=True)
        (root / server / "Get-ExchangeCertificate.txt").write_text(format_list(*records))
    onprem = root / "onprem"
    onprem.mkdir(parents=True, exist_ok=True)
    (onprem / "Get-SendConnector.txt").write_text(format_list(send or send_connector()))
    (onprem / "Get-ReceiveConnector.txt").write_text(format_list(*(receive or [receive_connector("EXCAS1")])))
    (onprem / "Get-HybridConfiguration.txt").write_text(format_list(hybrid or hybrid_configuration()))
    online = root / "exchange-online"
    online.mkdir(parents=True, exist_ok=True)
    (online / "Get-OutboundConnector.txt").write_text(format_list(eo_out or outbound()))
    (online / "Get-InboundConnector.txt").write_text(format_list(eo_in or inbound()))
    return root


CONN = ("HT-CONN-001", "HT-CONN-002", "HT-CONN-003", "HT-CONN-004", "HT-CONN-005", "HT-CONN-006", "HT-CONN-007")


def test_a_correctly_configured_hybrid_is_quiet(tmp_path: Path) -> None:
    outcomes, findings = judge(write_estate(tmp_path))
    assert triples(findings, "HT-CONN") == set()
    assert {outcomes[c].status for c in CONN} == {CheckStatus.PASSED}


def test_new_ca_vendor_leaves_every_connector_stale(tmp_path: Path) -> None:
    new_issuer = "CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, L=Salford, S=Greater Manchester, C=GB"
    renewed = certificate(Issuer=new_issuer, Thumbprint="B" * 40, SerialNumber="0B")
    certs = {"EXCAS1": [renewed, self_signed("EXCAS1")], "EXMBX1": [renewed, self_signed("EXMBX1")]}
    _, findings = judge(write_estate(tmp_path, certs=certs))
    assert triples(findings, "HT-CONN") == {("HT-CONN-001", "EXMBX1", "error"), ("HT-CONN-002", "EXCAS1", "error"),
                                            ("HT-CONN-004", "EXCAS1", "error"), ("HT-CONN-004", "EXMBX1", "error")}
    send = next(f for f in findings if f.check_id == "HT-CONN-001")
    assert "454 4.7.5" in send.message
    assert f"-TlsCertificateName '<I>{new_issuer}<S>{SUBJECT}'" in send.remediation
    receive = next(f for f in findings if f.check_id == "HT-CONN-002")
    assert "event 12014" in receive.message and "Set-ReceiveConnector -Identity 'EXCAS1\\Default Frontend EXCAS1'" in receive.remediation


def test_certificate_without_smtp_on_the_source_server(tmp_path: Path) -> None:
    certs = {"EXCAS1": [certificate()], "EXMBX1": [certificate(Services="IIS"), self_signed("EXMBX1")]}
    _, findings = judge(write_estate(tmp_path, certs=certs))
    assert ("HT-CONN-001", "EXMBX1", "error") in triples(findings, "HT-CONN-001")
    assert "UnknownCredentials" in next(f.message for f in findings if f.check_id == "HT-CONN-001")


@pytest.mark.parametrize(("value", "words"), [("", "has no TlsCertificateName"), ("CN=mail.contoso.com", "malformed")])
def test_send_connector_name_missing_or_malformed(tmp_path: Path, value: str, words: str) -> None:
    _, findings = judge(write_estate(tmp_path, send=send_connector(TlsCertificateName=value)))
    [finding] = [f for f in findings if f.check_id == "HT-CONN-001"]
    assert words in finding.message


def test_receive_connector_without_tls(tmp_path: Path) -> None:
    receive = [receive_connector("EXCAS1", AuthMechanism="Integrated, BasicAuth")]
    _, findings = judge(write_estate(tmp_path, receive=receive))
    assert triples(findings, "HT-CONN-002") == {("HT-CONN-002", "EXCAS1", "error")}


def test_newest_certificate_wins_even_without_smtp(tmp_path: Path) -> None:
    renewal = certificate(Thumbprint="C" * 40, SerialNumber="0C", Services="None",
                          NotBefore="3/1/2030 12:00:00 AM", NotAfter="3/1/2031 11:59:59 PM")
    certs = {"EXCAS1": [certificate(), renewal], "EXMBX1": [certificate()]}
    _, findings = judge(write_estate(tmp_path, certs=certs), now="2030-03-05T00:00:00")
    assert triples(findings, "HT-CONN-003") == {("HT-CONN-003", "EXCAS1", "error")}
    [finding] = [f for f in findings if f.check_id == "HT-CONN-003"]
    assert f"presents the newest, {SUBJECT} (thumbprint {'C' * 40})" in finding.message
    assert f"-Thumbprint {'C' * 40} | Enable-ExchangeCertificate -Services SMTP" in finding.remediation


def test_outbound_tls_domain_and_smart_host_drift(tmp_path: Path) -> None:
    estate = write_estate(tmp_path, eo_out=outbound(TlsDomain="smtp.contoso.com", SmartHosts="{hybrid.contoso.com}"))
    _, findings = judge(estate)
    assert {(f.check_id, f.severity.value) for f in findings if f.check_id == "HT-CONN-005"} == {
        ("HT-CONN-005", "error"), ("HT-CONN-005", "warning")}
    mismatch = next(f for f in findings if f.check_id == "HT-CONN-005" and f.severity.value == "error")
    assert "SubjectMismatch" in mismatch.message and "-TlsDomain 'mail.contoso.com'" in mismatch.remediation


def test_outbound_without_validation_and_wildcard_tls_domain(tmp_path: Path) -> None:
    _, findings = judge(write_estate(tmp_path, eo_out=outbound(TlsSettings="EncryptionOnly")))
    assert {(f.check_id, f.severity.value) for f in findings if f.check_id.startswith("HT-CONN")} == {("HT-CONN-005", "warning")}
    _, findings = judge(write_estate(tmp_path, eo_out=outbound(TlsDomain="*.contoso.com")))
    assert triples(findings, "HT-CONN-005") == set()


def test_inbound_sender_certificate_name(tmp_path: Path) -> None:
    _, findings = judge(write_estate(tmp_path, eo_in=inbound(TlsSenderCertificateName="hybrid.fabrikam.com")))
    [finding] = [f for f in findings if f.check_id == "HT-CONN-006"]
    assert "550 5.7.64 TenantAttribution" in finding.message
    _, findings = judge(write_estate(tmp_path, eo_in=inbound(TlsSenderCertificateName="*.contoso.com")))
    assert triples(findings, "HT-CONN-006") == set()


def test_tls_certificate_name_too_long_for_edge(tmp_path: Path) -> None:
    long_issuer = "CN=" + "Very Long Issuing Certification Authority Name " * 5 + ", O=Vendor, C=US"
    long_name = f"<I>{long_issuer}<S>{SUBJECT}"
    certs = {"EXCAS1": [certificate(Issuer=long_issuer)], "EXMBX1": [certificate(Issuer=long_issuer)]}
    estate = write_estate(tmp_path, certs=certs, send=send_connector(TlsCertificateName=long_name),
                          receive=[receive_connector("EXCAS1", TlsCertificateName=long_name)],
                          hybrid=hybrid_configuration(TlsCertificateName=long_name, EdgeTransportServers="{EDGE1}"))
    _, findings = judge(estate)
    assert {(f.check_id, f.subject, f.severity.value) for f in findings if f.check_id == "HT-CONN-007"} == {
        ("HT-CONN-007", "Outbound to Office 365 - 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f", "error"),
        ("HT-CONN-007", "HybridConfiguration", "error")}


def test_internal_transport_certificate(tmp_path: Path) -> None:
    from conftest import self_signed as own

    estate = write_estate(tmp_path)
    thumbprint = own("EXMBX1")["Thumbprint"]
    (estate / "onprem" / "Get-TransportService.txt").write_text(format_list(
        {"Name": "EXMBX1", "InternalTransportCertificateThumbprint": thumbprint},
        {"Name": "EXCAS1", "InternalTransportCertificateThumbprint": "F" * 40}))
    outcomes, findings = judge(estate)
    assert triples(findings, "HT-CONN-008") == {("HT-CONN-008", "EXCAS1", "error")}
    assert "event 12013" in next(f.message for f in findings if f.check_id == "HT-CONN-008")


def test_a_change_ticket_is_judged_against_the_certificates(tmp_path: Path) -> None:
    from hybridtls.model import CheckStatus as Status

    estate = write_estate(tmp_path)
    (estate / "CHG0048213.md").write_text(
        "| 2 | EXCAS1 | `Set-SendConnector -Identity \"Outbound to Office 365\" -TlsCertificateName "
        "\"<I>CN=Other CA, O=Other<S>CN=mail.contoso.com\"` |\n"
        "| 3 | EXCAS1 | `Set-ReceiveConnector \"EXCAS1\\Default Frontend EXCAS1\" -TlsCertificateName $Name` |\n",
        encoding="utf-8")
    outcomes, findings = judge(estate)
    found = {(f.check_id, f.subject, f.severity.value) for f in findings if f.check_id.startswith("HT-CMD")}
    assert found == {("HT-CMD-003", "send connector 'Outbound to Office 365'", "error"),
                     ("HT-CMD-002", "receive connector 'EXCAS1\\Default Frontend EXCAS1'", "warning")}
    assert outcomes["HT-CMD-001"].status is Status.PASSED
    [unmatched] = [f for f in findings if f.check_id == "HT-CMD-003"]
    assert unmatched.evidence[0].source.line == 1 and "CHG0048213.md" in unmatched.evidence[0].source.path


def test_a_finding_on_a_command_line_says_it_is_as_configured_by_that_command(tmp_path: Path) -> None:
    estate = write_estate(tmp_path)
    (estate / "fix.ps1").write_text(
        "Set-SendConnector -Identity 'Outbound to Office 365' -CloudServicesMailEnabled $true `\n"
        "    -SourceTransportServers EXMBX1 -TlsCertificateName '<I>CN=Gone CA<S>CN=mail.contoso.com'\n",
        encoding="utf-8")
    _, findings = judge(estate)
    [finding] = [f for f in findings if f.check_id == "HT-CONN-001" and "fix.ps1" in str(f.evidence[0].source)]
    assert finding.evidence[0].source.line == 2
    assert finding.evidence[0].text.endswith("(as configured by Set-SendConnector)")
