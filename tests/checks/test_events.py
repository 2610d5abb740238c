"""The event checks on real-shaped files: what each event means, cross-checked against the certificates and
connectors read beside it; exact (check id, key, severity) every time."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from conftest import FIXTURES, auth_certificate, certificate, format_list

from hybridtls.checks import CheckContext, run_checks
from hybridtls.checks.events import CHECKS
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import Finding

EVENTS = FIXTURES / "events"
NOW = datetime(2016, 2, 20)


def findings(folder: Path, now: datetime = NOW) -> list[Finding]:
    outcomes = run_checks(load_evidence([str(folder)]), CheckContext(now=now), CHECKS)
    return [f for o in outcomes for f in o.findings]


def keys(found: list[Finding]) -> set[tuple[str, str]]:
    return {(f.key, f.severity.value) for f in found}


def estate(tmp_path: Path, *events: str, certificates: dict[str, str] | None = None) -> Path:
    for name in events:
        shutil.copy(EVENTS / name, tmp_path / name)
    for server, text in (certificates or {}).items():
        (tmp_path / server).mkdir()
        (tmp_path / server / "Get-ExchangeCertificate.txt").write_text(text, encoding="utf-8")
    return tmp_path


CAS_CERT = {"excas1": format_list(certificate(RootCAType="Registry", NotAfter="3/14/2030 11:59:59 PM"))}
KEY_12014 = "HT-EVT-001|server=excas1|connector=default frontend excas1|name=mail.contoso.com"


def test_12014_for_a_name_whose_certificate_has_its_root_in_registry_is_the_founding_fault(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "mixed.txt"))
    assert keys(found) == {(KEY_12014, "error")}
    [finding] = found
    assert "founding fault (HT-ROOT-001) seen from the transport's side" in finding.message
    assert [c.source.line for c in finding.evidence] == [3, 27]  # the event, and the certificate's RootCAType
    assert "Cert:\\LocalMachine\\AuthRoot" in finding.remediation


def test_12014_for_a_name_no_certificate_carries(tmp_path: Path) -> None:
    other = {"excas1": format_list(certificate(CertificateDomains="{owa.contoso.com}"))}
    [finding] = findings(estate(tmp_path, "es-copy.txt", certificates=other))
    assert (finding.key, finding.severity.value) == (KEY_12014, "error")
    assert "No certificate in the evidence for EXCAS1 carries mail.contoso.com" in finding.message
    assert "-DomainName 'mail.contoso.com'" in finding.remediation


def test_12014_with_no_certificate_evidence_keeps_its_own_cause(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "ja-copy.txt"))
    assert keys(found) == {(KEY_12014, "error")}
    assert "the event's own cause stands" in found[0].message


def test_a_translated_12014_is_known_by_its_id_and_its_connector_is_looked_up(tmp_path: Path) -> None:
    (tmp_path / "Get-ReceiveConnector.txt").write_text(format_list({
        "Identity": "EXCAS1\\Default Frontend EXCAS1", "Fqdn": "mail.contoso.com", "TlsCertificateName": "",
        "AuthMechanism": "Tls, Integrated", "Bindings": "{[::]:25, 0.0.0.0:25}",
        "TlsDomainCapabilities": "{mail.protection.outlook.com:AcceptCloudServicesMail}"}))
    found = findings(estate(tmp_path, "de-copy.txt", certificates=CAS_CERT))
    assert keys(found) == {("HT-EVT-001|server=excas1|connector=excas1\\default frontend excas1|name=mail.contoso.com",
                            "error")}
    assert "does not say the name in English; the connector EXCAS1\\Default Frontend EXCAS1 names mail.contoso.com" in (
        found[0].message)


def test_every_event_of_the_english_copy(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "en-copy.txt", "get-winevent-fl.txt", "get-eventlog-fl.txt"))
    assert keys(found) == {
        (KEY_12014, "error"),
        ("HT-EVT-001|connector=default frontend excas1|name=mail.contoso.com", "error"),  # Get-EventLog: no computer
        ("HT-EVT-001|server=exmbx1|connector=outbound to office 365|name=<i>cn=quovadis ev ssl ica g1, o=quovadis "
         "limited, c=bm<s>cn=owa.domain.com, o=domain pty ltd, c=au", "error"),
        ("HT-EVT-002|server=exmbx1|certificate=a1b2c3d4e5f60718293a4b5c6d7e8f9012345678|name=12018:mail.contoso.com",
         "warning"),
        ("HT-EVT-002|server=exmbx1|name=12016:mail.contoso.com", "error"),
        ("HT-EVT-004|server=excas1|connector=client frontend excas1|name=logondenied:login", "info"),
        ("HT-EVT-004|connector=default frontend excas1|name=unexpectedexchangeauthblob:exchangeauth", "warning"),
    }
    send = next(f for f in found if "outbound to office 365" in f.key)
    assert "Get-SendConnector -Identity 'Outbound to Office 365'" in send.remediation


def test_an_unknown_exchange_event_is_a_warning_quoting_it_and_another_source_is_information(tmp_path: Path) -> None:
    (tmp_path / "events.txt").write_text(
        "Log Name:      Application\nSource:        MSExchange OAuth\nDate:          2/18/2016 9:00:00 AM\n"
        "Event ID:      2002\nLevel:         Error\nComputer:      EXMBX1.contoso.com\nDescription:\n"
        "An OAuth failure described in words hybridtls has no entry for.\n\n"
        "Log Name:      System\nSource:        Service Control Manager\nDate:          2/18/2016 9:01:00 AM\n"
        "Event ID:      7036\nLevel:         Information\nComputer:      EXMBX1.contoso.com\nDescription:\n"
        "The Microsoft Exchange Transport service entered the running state.\n", encoding="utf-8")
    found = findings(tmp_path)
    assert keys(found) == {("HT-EVT-005|name=msexchange oauth:2002", "warning"),
                           ("HT-EVT-005|name=service control manager:7036", "info")}
    oauth = next(f for f in found if "oauth" in f.key)
    assert "words hybridtls has no entry for" in oauth.evidence[0].text and "Get-AuthConfig" in oauth.remediation


def test_an_expired_certificate_already_renewed_in_the_evidence_is_a_warning(tmp_path: Path) -> None:
    renewed = {"exmbx1": format_list(certificate(NotBefore="2/19/2016 12:00:00 AM", NotAfter="2/19/2017 11:59:59 PM"))}
    shutil.copy(EVENTS / "fr-copy.txt", tmp_path / "fr-copy.txt")
    found = findings(estate(tmp_path, certificates=renewed))
    assert keys(found) == {("HT-EVT-002|server=exmbx1|name=12016:mail.contoso.com", "warning")}
    assert "the event predates it" in found[0].message


def test_the_founding_case_seen_from_the_transport(tmp_path: Path) -> None:
    """The founding incident's evidence, with the 12014 its CAS would log for the hybrid name: the event, the
    certificate's RootCAType Registry and the Pending message trace, cited together."""
    case = tmp_path / "case"
    shutil.copytree(FIXTURES / "cases" / "founding-incident", case, ignore=shutil.ignore_patterns("after-fix"))
    text = (EVENTS / "en-copy.txt").read_text(encoding="utf-8").split("\n\n")[0]
    (case / "excas1" / "events.txt").write_text(text.replace("mail.contoso.com", "owa.domain.com")
                                                .replace("EXCAS1.contoso.com", "excas1.domain.com"), encoding="utf-8")
    [finding] = findings(case, datetime(2016, 2, 20))
    assert (finding.key, finding.severity.value) == (
        "HT-EVT-001|server=excas1|connector=default frontend excas1|name=owa.domain.com", "error")
    assert "founding fault" in finding.message and "1 message(s) Pending" in finding.message
    assert [c.text.split(":")[0] for c in finding.evidence] == [
        "event 12014 (MSExchangeFrontEndTransport) on excas1.domain.com at 2016-02-18 00", "excas1", "message trace"]


def test_a_12014_event_viewer_could_not_format_is_read_from_its_parameters(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "en-no-message-file.txt", certificates=CAS_CERT))
    assert keys(found) == {(KEY_12014, "error")}
    assert "founding fault" in found[0].message


def test_schannel_failures_say_what_the_alert_means(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "schannel-system.txt"))
    assert keys(found) == {("HT-EVT-006|server=excas1|name=schannel:36888:40", "warning"),
                           ("HT-EVT-006|server=exmbx1|name=schannel:36882:", "warning")}
    alert = next(f for f in found if "36888" in f.key)
    assert "alert 40: handshake_failure" in alert.message and "Get-TlsCipherSuite" in alert.remediation
    untrusted = next(f for f in found if "36882" in f.key)
    assert "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4" in untrusted.remediation


# --- MSExchange OAuth 2004: the Auth certificate that signs tokens --------------------------------------------------

OAUTH = "5F3B0C2D9A81E4476C1D0B92E3A5F8C1247D6E90"
KEY_2004 = f"HT-EVT-007|server=exmbx1|certificate={OAUTH.casefold()}|name=2004"
NEW_AUTH = "9E8D7C6B5A49382716A5B4C3D2E1F00918273645"


def oauth_certificate(**overrides: str) -> dict[str, str]:
    """The Auth certificate whose thumbprint the events name, valid from before they were logged."""
    return auth_certificate(**{"Thumbprint": OAUTH, "NotBefore": "2/13/2016 8:00:00 AM",
                               "NotAfter": "2/13/2021 8:00:00 AM", **overrides})


def test_2004_in_the_copy_layout_with_another_auth_certificate_on_the_server(tmp_path: Path) -> None:
    certs = {"exmbx1": format_list(certificate()) + "\n" + format_list(oauth_certificate(Thumbprint=NEW_AUTH))}
    [finding] = findings(estate(tmp_path, "oauth-2004-copy.txt", certificates=certs))
    assert (finding.key, finding.severity.value) == (KEY_2004, "error")
    assert f"Confirmed: none of the 2 certificate(s) read from EXMBX1 has the thumbprint {OAUTH}" in finding.message
    assert f"(thumbprint {NEW_AUTH}) is a valid Auth certificate on EXMBX1" in finding.message
    assert f"Set-AuthConfig -NewCertificateThumbprint {NEW_AUTH} -NewCertificateEffectiveDate (Get-Date)" in (
        finding.remediation)
    assert "New-ExchangeCertificate" not in finding.remediation
    assert f"Get-ExchangeCertificate -Server 'EXMBX1' -Thumbprint {OAUTH}" in finding.remediation
    assert [c.source.line for c in finding.evidence[:1]] == [1]


def test_2004_from_get_winevent_when_the_certificate_has_no_private_key(tmp_path: Path) -> None:
    certs = {"exmbx1": format_list(oauth_certificate(HasPrivateKey="False"))}
    [finding] = findings(estate(tmp_path, "oauth-2004-winevent-fl.txt", certificates=certs))
    assert (finding.key, finding.severity.value) == (KEY_2004, "error")
    assert "2 times, from 2016-02-19 07:12:40 to 2016-02-19 08:12:41" in finding.message
    assert "is on EXMBX1 without its private key" in finding.message
    assert "$auth = New-ExchangeCertificate" in finding.remediation  # no other Auth certificate to make current


def test_2004_when_the_certificate_expired(tmp_path: Path) -> None:
    certs = {"exmbx1": format_list(oauth_certificate())}
    [finding] = findings(estate(tmp_path, "oauth-2004-copy.txt", certificates=certs), now=datetime(2021, 3, 1))
    assert (finding.key, finding.severity.value) == (KEY_2004, "error")
    assert "expired 2021-02-13; tokens it signs are refused" in finding.message


def test_2004_whose_certificate_is_present_with_its_key_is_a_warning(tmp_path: Path) -> None:
    certs = {"exmbx1": format_list(oauth_certificate())}
    [finding] = findings(estate(tmp_path, "oauth-2004-copy.txt", certificates=certs))
    assert (finding.key, finding.severity.value) == (KEY_2004, "warning")
    assert "the event may predate its import" in finding.message


def test_a_2004_description_pasted_alone_keeps_its_own_cause(tmp_path: Path) -> None:
    found = findings(estate(tmp_path, "oauth-2004-description.txt"))
    assert keys(found) == {(f"HT-EVT-007|certificate={OAUTH.casefold()}|name=2004", "warning")}
    assert "the event's own cause stands" in found[0].message
    assert "(id read from the wording)" in found[0].evidence[0].text
    assert "-Server <ServerName>" in found[0].remediation


def test_a_2004_from_another_source_is_not_the_oauth_certificate(tmp_path: Path) -> None:
    text = (EVENTS / "oauth-2004-copy.txt").read_text(encoding="utf-8").replace("MSExchange OAuth", "MSExchangeRepl")
    (tmp_path / "events.txt").write_text(text, encoding="utf-8")
    assert keys(findings(tmp_path)) == {("HT-EVT-005|name=msexchangerepl:2004", "warning")}


def test_an_auth_certificate_not_yet_valid_is_not_offered_as_the_current_one(tmp_path: Path) -> None:
    certs = {"exmbx1": format_list(oauth_certificate(Thumbprint=NEW_AUTH, NotBefore="3/14/2016 8:00:00 AM"))}
    [finding] = findings(estate(tmp_path, "oauth-2004-copy.txt", certificates=certs))
    assert (finding.key, finding.severity.value) == (KEY_2004, "error")
    assert NEW_AUTH not in finding.message and "$auth = New-ExchangeCertificate" in finding.remediation


def test_event_5003_is_not_guessed(tmp_path: Path) -> None:
    """No source could be confirmed for a hybrid or certificate meaning of 5003: it is quoted, not explained."""
    text = (EVENTS / "oauth-2004-copy.txt").read_text(encoding="utf-8").replace("2004", "5003")
    (tmp_path / "events.txt").write_text(text.replace("MSExchange OAuth", "MSExchangeFrontEndTransport"),
                                         encoding="utf-8")
    found = findings(tmp_path)
    assert keys(found) == {("HT-EVT-005|name=msexchangefrontendtransport:5003", "warning")}
    assert "is not in hybridtls's catalogue" in found[0].message
