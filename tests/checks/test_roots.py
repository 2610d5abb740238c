from __future__ import annotations

from conftest import CASES, auth_certificate, certificate, judge, self_signed, triples

from hybridtls.model import CheckStatus


def test_founding_case_names_the_client_access_server() -> None:
    outcomes, findings = judge(CASES / "founding-incident", now="2016-02-20T00:00:00")
    assert triples(findings, "HT-ROOT") == {("HT-ROOT-001", "excas1", "error")}
    [finding] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert "exmbx1 (ThirdParty)" in finding.message
    assert "Cert:\\LocalMachine\\My | Where-Object { $_.SerialNumber -eq '172FF4C1A3B4D13282A17C8080C1E552475CD4CB' }" in finding.remediation
    assert "X509Store('AuthRoot', 'LocalMachine')" in finding.remediation
    assert "Get-ExchangeCertificate -Server 'excas1'" in finding.remediation
    cited = {(c.source.path.rsplit("/", 2)[-2], c.source.line, c.text) for c in finding.evidence}
    assert ("excas1", 14, "excas1: RootCAType Registry") in cited
    assert ("exmbx1", 14, "exmbx1: RootCAType ThirdParty") in cited
    assert outcomes["HT-ROOT-002"].status is CheckStatus.PASSED


def test_after_the_fix_the_root_cause_is_gone() -> None:
    outcomes, findings = judge(CASES / "founding-incident-after-fix", now="2016-02-20T00:00:00")
    assert triples(findings, "HT-ROOT") == set()
    assert outcomes["HT-ROOT-001"].status is CheckStatus.PASSED


def test_healthy_estate_with_the_usual_self_signed_and_auth_certificates_is_quiet(estate) -> None:
    folder = estate({
        server: [certificate(), self_signed(server), auth_certificate()]
        for server in ("excas1", "excas2", "exmbx1", "exmbx2")
    })
    outcomes, findings = judge(folder)
    assert triples(findings, "HT-ROOT") == set()
    assert outcomes["HT-ROOT-001"].status is CheckStatus.PASSED
    assert outcomes["HT-ROOT-002"].status is CheckStatus.PASSED


def test_group_policy_and_enterprise_are_their_own_cases(estate) -> None:
    folder = estate({
        "ex1": [certificate(RootCAType="GroupPolicy"), self_signed("ex1")],
        "ex2": [certificate(), self_signed("ex2")],
        "ex3": [certificate(Thumbprint="B" * 40, SerialNumber="0B", Issuer="CN=Contoso Issuing CA, DC=contoso, DC=local",
                            RootCAType="Enterprise", Services="IIS")],
    })
    _, findings = judge(folder)
    assert triples(findings, "HT-ROOT") == {("HT-ROOT-002", "ex1", "warning"), ("HT-ROOT-002", "ex3", "warning")}
    by_server = {f.server: f for f in findings if f.check_id == "HT-ROOT-002"}
    assert "Group Policy" in by_server["ex1"].message and "ex2 (ThirdParty)" in by_server["ex1"].message
    assert "AuthRoot" in by_server["ex1"].remediation
    assert "internal CA" in by_server["ex3"].message and "public CA" in by_server["ex3"].remediation


def test_registry_on_a_certificate_without_smtp_is_a_warning(estate) -> None:
    folder = estate({"ex1": [certificate(RootCAType="Registry", Services="IIS")]})
    _, findings = judge(folder)
    assert triples(findings, "HT-ROOT") == {("HT-ROOT-001", "ex1", "warning")}


def test_hostile_serial_number_never_reaches_the_powershell(estate) -> None:
    folder = estate({"ex1": [certificate(RootCAType="Registry", Thumbprint="masked", SerialNumber="'; Remove-Item C:\\ -Recurse; '")]})
    _, findings = judge(folder)
    [finding] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert "$_.SerialNumber -eq ''';REMOVE-ITEMC:\\-RECURSE;''' }" in finding.remediation  # an inert literal


def test_table_output_has_no_root_ca_type_so_the_check_is_not_applicable(tmp_path) -> None:
    (tmp_path / "ex1").mkdir()
    (tmp_path / "ex1" / "certs.txt").write_text(
        "Thumbprint                                Services   Subject\n"
        "----------                                --------   -------\n"
        "B8FFF722AAF9E4CFA055581061F6020C70BAC8AF  ...WS..    CN=mail.contoso.com\n"
    )
    outcomes, _ = judge(tmp_path)
    assert outcomes["HT-ROOT-001"].status is CheckStatus.NOT_APPLICABLE
    assert "Format-List" in outcomes["HT-ROOT-001"].reason
