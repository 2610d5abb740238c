"""The rotation-era checks on real-shaped evidence: SC-081 lifetimes, the Client Authentication EKU, names outside
the tenant's accepted domains, one certificate across tenants. Each fires where it should and stays quiet else."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import FIXTURES, certificate, format_list, run_cli
from cryptography.x509.oid import ExtendedKeyUsageOID
from factory import NOW, public_like_pki
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.pki.lifetime import ONE_HOUR, max_public_lifetime, over_public_limit, renew_by, validity

UTC = timezone.utc
ISSUER = "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, C=US"
TLS_NAME = f"<I>{ISSUER}<S>{SUBJECT}"


def findings(run_out: str, prefix: str = "HT-ROT-") -> dict[str, list[dict[str, object]]]:
    found: dict[str, list[dict[str, object]]] = {}
    for f in json.loads(run_out)["findings"]:
        if f["check_id"].startswith(prefix):
            found.setdefault(f["check_id"], []).append(f)
    return found


def checks(run_out: str) -> dict[str, dict[str, object]]:
    return {c["id"]: c for c in json.loads(run_out)["checks"] if c["id"].startswith("HT-ROT-")}


# ---------------------------------------------------------------- the schedule


def test_the_sc081_schedule_by_notbefore() -> None:
    assert [max_public_lifetime(datetime(*d, tzinfo=UTC)) for d in (
        (2018, 2, 28), (2018, 3, 1), (2020, 9, 1), (2026, 3, 14), (2026, 3, 15), (2027, 3, 14), (2027, 3, 15),
        (2029, 3, 14), (2029, 3, 15), (2035, 1, 1))] == [None, 825, 398, 398, 200, 200, 100, 100, 47, 47]


def test_validity_counts_both_ends() -> None:
    start = datetime(2026, 4, 1, tzinfo=UTC)
    # 200 days less one second between the dates is 200 days of validity: the most allowed
    assert over_public_limit(start, start + timedelta(days=200) - timedelta(seconds=1)) is None
    # NotAfter exactly 200 days later is one second too long, as the Baseline Requirements count
    days, limit = over_public_limit(start, start + timedelta(days=200)) or (0.0, 0)
    assert limit == 200 and days > 200


@given(st.datetimes(min_value=datetime(2018, 3, 1), max_value=datetime(2035, 1, 1)),
       st.integers(min_value=1, max_value=900 * 86400))
def test_over_the_limit_exactly_when_validity_exceeds_it(not_before: datetime, seconds: int) -> None:
    not_after = not_before + timedelta(seconds=seconds)
    allowed = max_public_lifetime(not_before)
    assert allowed is not None
    assert (over_public_limit(not_before, not_after) is not None) == (validity(not_before, not_after)
                                                                      > timedelta(days=allowed))
    due = renew_by(not_before, not_after)
    assert due <= not_after - timedelta(days=30) and due <= not_before + (not_after - not_before) * 2 / 3


# ---------------------------------------------------------------- HT-ROT-001


def test_a_leaf_longer_than_its_year_allows_from_a_given_anchor_is_a_notice_naming_a_private_ca(tmp_path: Path) -> None:
    pki = public_like_pki(not_before=NOW - timedelta(days=30), not_after=NOW + timedelta(days=335))
    (tmp_path / "leaf.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    run = run_cli("cert", str(tmp_path / "leaf.pem"), "--trust", str(tmp_path / "root.pem"), "--format", "json")
    [finding] = findings(run.out)["HT-ROT-001"]
    assert finding["severity"] == "info"
    assert "valid for 365 days from NotBefore 2026-10-28" in str(finding["message"])
    assert "at most 200 days from 2026-03-15" in str(finding["message"])
    assert "private CA is likelier" in str(finding["message"])


def test_a_leaf_within_the_limit_passes(tmp_path: Path) -> None:
    pki = public_like_pki()  # 180 days
    (tmp_path / "leaf.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    run = run_cli("cert", str(tmp_path / "leaf.pem"), "--trust", str(tmp_path / "root.pem"), "--format", "json")
    assert "HT-ROT-001" not in findings(run.out) and checks(run.out)["HT-ROT-001"]["status"] == "passed"


def test_dates_read_the_wrong_way_round_are_a_warning_saying_so(tmp_path: Path) -> None:
    # written day first (5 Jan 2027 .. 6 Dec 2027 read month first is 335 days; day first it is 1 May .. 12 Jun: 42)
    (tmp_path / "EXCAS1").mkdir()
    (tmp_path / "EXCAS1" / "Get-ExchangeCertificate.txt").write_text(format_list(
        certificate(NotBefore="1/5/2027 12:00:00 AM", NotAfter="12/6/2027 11:59:59 PM")))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2027-05-20", "--date-order", "mdy",
                  "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-001"]
    assert finding["severity"] == "warning" and "mis-read date is likelier" in str(finding["message"])
    assert [e["source"]["line"] for e in finding["evidence"]] == [9, 8]  # NotBefore, NotAfter lines


def test_an_exact_200_days_across_daylight_saving_in_console_text_is_within_the_limit(tmp_path: Path) -> None:
    """Console dates are local time without an offset: 200 days from March to October read as 200 days and an
    hour. That hour is slack, not a mis-read date; two hours over is still over."""
    (tmp_path / "EXCAS1").mkdir()
    listing = tmp_path / "EXCAS1" / "Get-ExchangeCertificate.txt"
    listing.write_text(format_list(certificate(NotBefore="3/20/2026 12:00:00 AM", NotAfter="10/6/2026 12:59:59 AM")))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-05-20", "--date-order", "mdy",
                  "--fail-on", "never")
    assert "HT-ROT-001" not in findings(run.out) and checks(run.out)["HT-ROT-001"]["status"] == "passed"
    listing.write_text(format_list(certificate(NotBefore="3/20/2026 12:00:00 AM", NotAfter="10/6/2026 1:59:59 AM")))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-05-20", "--date-order", "mdy",
                  "--fail-on", "never")
    assert len(findings(run.out)["HT-ROT-001"]) == 1


def test_a_certificate_file_s_dates_are_exact_no_slack() -> None:
    start = datetime(2026, 3, 20, tzinfo=UTC)
    assert over_public_limit(start, start + timedelta(days=200, minutes=30)) is not None
    assert over_public_limit(start, start + timedelta(days=200, minutes=30), ONE_HOUR) is None


def test_a_private_root_by_policy_is_a_notice(tmp_path: Path) -> None:
    (tmp_path / "EXCAS1").mkdir()
    (tmp_path / "EXCAS1" / "Get-ExchangeCertificate.txt").write_text(format_list(
        certificate(NotBefore="5/20/2029 12:00:00 AM", NotAfter="5/19/2031 11:59:59 PM", RootCAType="Enterprise")))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2029-06-01", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-001"]
    assert finding["severity"] == "info" and "RootCAType Enterprise" in str(finding["message"])
    assert "at most 47 days from 2029-03-15" in str(finding["message"])


# ---------------------------------------------------------------- HT-ROT-002


def _server_only_leaf(tmp_path: Path) -> Path:
    pki = public_like_pki(eku=(ExtendedKeyUsageOID.SERVER_AUTH,))
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    path = tmp_path / "evidence" / "new.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pki.leaf.pem + pki.intermediate.pem)
    return path


def test_no_client_auth_on_the_send_connector_certificate_is_a_warning_with_both_citations(tmp_path: Path) -> None:
    leaf = _server_only_leaf(tmp_path)
    (leaf.parent / "Get-SendConnector.txt").write_text(format_list({
        "Name": "Outbound to Office 365", "AddressSpaces": "{smtp:contoso.mail.onmicrosoft.com;1}",
        "CloudServicesMailEnabled": "True", "SmartHosts": "{}", "SourceTransportServers": "{EXMBX1}",
        "TlsCertificateName": TLS_NAME, "TlsAuthLevel": "DomainValidation", "RequireTLS": "True"}))
    run = run_cli("check", str(leaf.parent), "--trust", str(tmp_path / "root.pem"), "--format", "json",
                  "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-002"]
    assert finding["severity"] == "warning"
    assert "no statement yet" in str(finding["message"]) and "2026-06-15" in str(finding["message"])
    assert [e["text"] for e in finding["evidence"]] == [
        "Extended Key Usage: Server Authentication", "Send connector 'Outbound to Office 365': TlsCertificateName names it"]


def test_cert_on_a_candidate_without_client_auth_is_a_notice_and_with_it_quiet(tmp_path: Path) -> None:
    leaf = _server_only_leaf(tmp_path)
    run = run_cli("cert", str(leaf), "--trust", str(tmp_path / "root.pem"), "--format", "json")
    [finding] = findings(run.out)["HT-ROT-002"]
    assert finding["severity"] == "info" and "if it becomes the hybrid certificate" in str(finding["message"])
    pki = public_like_pki()  # Server and Client Authentication
    (tmp_path / "both.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    run = run_cli("cert", str(tmp_path / "both.pem"), "--trust", str(tmp_path / "root.pem"), "--format", "json")
    assert "HT-ROT-002" not in findings(run.out) and checks(run.out)["HT-ROT-002"]["status"] == "passed"


# ---------------------------------------------------------------- HT-ROT-003 and HT-ROT-004


def _inbound(sender: str, tenant: str | None = None) -> str:
    record = {"Name": "Inbound from 6f7e8d9c", "Enabled": "True", "ConnectorType": "OnPremises",
              "SenderDomains": "{smtp:*;1}", "RequireTls": "True", "RestrictDomainsToCertificate": "False",
              "TlsSenderCertificateName": sender}
    if tenant:
        record["OrganizationalUnitRoot"] = tenant
    return format_list(record)


def _tenant(folder: Path, domains: str, sender: str) -> None:
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "domains" / "online" / "Get-AcceptedDomain-fl.txt", folder / "Get-AcceptedDomain.txt")
    text = (folder / "Get-AcceptedDomain.txt").read_text().replace("contoso", domains)
    (folder / "Get-AcceptedDomain.txt").write_text(text)
    (folder / "Get-InboundConnector.txt").write_text(_inbound(sender))


def test_an_inbound_certificate_name_outside_the_accepted_domains_fires(tmp_path: Path) -> None:
    _tenant(tmp_path / "eo", "contoso", "mail.fabrikam.net")
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-003"]
    assert "'mail.fabrikam.net'" in str(finding["message"]) and "MC1226222" in str(finding["message"])
    assert "the accepted domains of its tenant contoso.onmicrosoft.com (contoso.com, contoso.mail.onmicrosoft.com" in str(
        finding["message"])


def test_a_subdomain_of_an_accepted_domain_and_a_wildcard_are_quiet(tmp_path: Path) -> None:
    _tenant(tmp_path / "eo", "contoso", "*.contoso.com")
    (tmp_path / "eo" / "more.txt").write_text(_inbound("smtp.mail.contoso.com"))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    assert "HT-ROT-003" not in findings(run.out) and checks(run.out)["HT-ROT-003"]["status"] == "passed"


def test_one_certificate_name_in_two_tenants_fires(tmp_path: Path) -> None:
    _tenant(tmp_path / "contoso", "contoso", "mail.contoso.com")
    _tenant(tmp_path / "fabrikam", "fabrikam", "mail.contoso.com")
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-004"]
    assert "2 tenants (contoso.onmicrosoft.com, fabrikam.onmicrosoft.com)" in str(finding["message"])
    assert {e["source"]["path"].rsplit("/", 2)[-2] for e in finding["evidence"]} == {"contoso", "fabrikam"}


def test_own_names_per_tenant_are_quiet_and_an_unplaced_connector_is_said(tmp_path: Path) -> None:
    _tenant(tmp_path / "contoso", "contoso", "mail.contoso.com")
    _tenant(tmp_path / "fabrikam", "fabrikam", "mail.fabrikam.com")
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    assert "HT-ROT-004" not in findings(run.out) and checks(run.out)["HT-ROT-004"]["status"] == "passed"
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "Get-InboundConnector.txt").write_text(_inbound("mail.contoso.com"))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    outcome = checks(run.out)["HT-ROT-004"]
    assert outcome["status"] == "not_applicable" and "no tenant is named by it" in str(outcome["reason"])


def test_a_connector_naming_its_tenant_needs_no_accepted_domains_beside_it(tmp_path: Path) -> None:
    _tenant(tmp_path / "contoso", "contoso", "mail.contoso.com")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Get-InboundConnector.txt").write_text(_inbound("mail.contoso.com", "tailspin.onmicrosoft.com"))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-004"]
    assert "(contoso.onmicrosoft.com, tailspin.onmicrosoft.com)" in str(finding["message"])


def test_each_tenant_s_connector_is_compared_with_its_own_accepted_domains(tmp_path: Path) -> None:
    _tenant(tmp_path / "contoso", "contoso", "mail.contoso.com")
    _tenant(tmp_path / "fabrikam", "fabrikam", "mail.contoso.com")  # under contoso.com: not one of fabrikam's
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-003"]
    assert "/fabrikam/" in finding["evidence"][0]["source"]["path"]
    assert "the accepted domains of its tenant fabrikam.onmicrosoft.com (fabrikam.com" in str(finding["message"])


def test_the_tenant_s_own_accepted_domains_are_cited(tmp_path: Path) -> None:
    _tenant(tmp_path / "contoso", "contoso", "mail.contoso.com")
    _tenant(tmp_path / "fabrikam", "fabrikam", "mail.contoso.com")
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    [finding] = findings(run.out)["HT-ROT-003"]
    cited = finding["evidence"][1]
    assert "/fabrikam/Get-AcceptedDomain.txt" in cited["source"]["path"]
    assert cited["text"].startswith("accepted domains of fabrikam.onmicrosoft.com: fabrikam.com") and "contoso" not in cited["text"]
