from __future__ import annotations

import pytest
from conftest import auth_certificate, certificate, judge, self_signed, triples

from hybridtls.model import CheckStatus

NOW = "2030-02-22T00:00:00"  # the default certificate() expires 3/14/2030: 20 days later


def test_expiry_tiers(estate) -> None:
    folder = estate({"ex1": [
        certificate(),  # 20 days left: warning
        certificate(Thumbprint="B" * 40, SerialNumber="0B", NotAfter="4/10/2030 1:00:00 PM"),  # 47 days: notice
        certificate(Thumbprint="C" * 40, SerialNumber="0C", NotAfter="12/31/2030 1:00:00 PM"),  # far: quiet
        certificate(Thumbprint="D" * 40, SerialNumber="0D", NotAfter="1/30/2030 1:00:00 PM"),  # expired, in use
        certificate(Thumbprint="E" * 40, SerialNumber="0E", NotAfter="1/30/2029 1:00:00 PM", Services="None"),  # expired, unused
    ]})
    _, findings = judge(folder, now=NOW)
    got = {(f.check_id, f.subject.split("thumbprint ")[1][:1], f.severity.value) for f in findings
           if f.check_id in ("HT-CERT-001", "HT-CERT-002")}
    assert got == {("HT-CERT-002", "A", "warning"), ("HT-CERT-002", "B", "info"),
                   ("HT-CERT-001", "D", "error"), ("HT-CERT-001", "E", "info")}
    expired = next(f for f in findings if f.check_id == "HT-CERT-001" and f.severity.value == "error")
    assert "New-ExchangeCertificate -GenerateRequest" in expired.remediation
    assert "expired on 2030-01-30 (22 days before 2030-02-22)" in expired.message


# A NotAfter like 11/2/2026 with nothing to settle the order is 2026-02-11 or 2026-11-02: judged where both readings
# give the same verdict (and said so, without claiming either date), not judged (and said so) where they do not.

def test_a_not_after_expired_under_both_readings_fires_and_names_both(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="11/2/2026 1:53:00 PM", NotBefore="8/4/2026 1:43:23 PM")]})
    outcomes, findings = judge(folder, now="2026-11-30T00:00:00")
    assert triples(findings, "HT-CERT-00") == {("HT-CERT-001", None, "error")}
    [expired] = findings
    assert expired.message.startswith(
        "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US (thumbprint A1B2C3D4E5F60718293A4B5C6D7E8F9012345678) "
        "expired under either reading of its NotAfter, at least 27 days before 2026-11-30: NotAfter 11/2/2026 "
        "1:53:00 PM is 2026-02-11 or 2026-11-02 (day and month could be either way round); it is on excas1")
    assert "expired on" not in expired.message  # no single date the evidence does not give
    assert [c.text for c in expired.evidence] == ["excas1: NotAfter 11/2/2026 1:53:00 PM (2026-02-11 or 2026-11-02)"]
    assert expired.evidence[0].source.line == 8  # the NotAfter line
    # expired either way is HT-CERT-001's alone: HT-CERT-002 judged it (nothing to say), and nothing is unjudged
    assert (outcomes["HT-CERT-002"].status, outcomes["HT-CERT-001"].reason) == (CheckStatus.PASSED, "")


def test_a_not_after_far_ahead_under_both_readings_is_quiet(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="5/6/2031 1:00:00 PM", NotBefore="5/6/2029 1:00:00 PM")]})
    outcomes, findings = judge(folder, now=NOW)  # 2031-05-06 or 2031-06-05: both far past the 60-day window
    assert not triples(findings, "HT-CERT-00")
    assert {outcomes[i].status for i in ("HT-CERT-001", "HT-CERT-002")} == {CheckStatus.PASSED}


def test_readings_within_the_warning_window_both_ways_warn_with_both_counts(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="3/4/2030 1:00:00 PM", NotBefore="3/4/2029 1:00:00 PM")]})
    _, findings = judge(folder, now="2030-03-04T00:00:00")  # 2030-03-04 or 2030-04-03: in 0 or 30 days
    assert triples(findings, "HT-CERT-00") == {("HT-CERT-002", None, "warning")}
    assert "expires within 30 days under either reading of its NotAfter, in 0 or 30 days: NotAfter 3/4/2030 " \
           "1:00:00 PM is 2030-03-04 or 2030-04-03" in findings[0].message


def test_readings_that_straddle_now_are_not_judged_and_the_check_says_why(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="3/4/2030 1:00:00 PM", NotBefore="3/4/2029 1:00:00 PM")]})
    outcomes, findings = judge(folder, now="2030-03-20T00:00:00")  # 2030-03-04 is past, 2030-04-03 is not
    assert not triples(findings, "HT-CERT-00")
    expired, expiring = outcomes["HT-CERT-001"], outcomes["HT-CERT-002"]
    assert expired.status is expiring.status is CheckStatus.NOT_APPLICABLE
    where = f"{folder / 'excas1' / 'Get-ExchangeCertificate.txt'}:8"
    assert expired.reason == (
        "could not judge CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US (thumbprint "
        f"A1B2C3D4E5F60718293A4B5C6D7E8F9012345678) ({where}): NotAfter 3/4/2030 1:00:00 PM is 2030-03-04 or "
        "2030-04-03 (day and month could be either way round): expired if 2030-03-04, not expired if 2030-04-03; "
        "--date-order dmy or --date-order mdy settles it")
    assert expiring.reason.endswith(": expired if 2030-03-04, expires within 30 days if 2030-04-03; "
                                    "--date-order dmy or --date-order mdy settles it")


def test_a_check_that_fires_still_names_the_date_it_could_not_judge(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="3/4/2030 1:00:00 PM", NotBefore="3/3/2029 1:00:00 PM"),
                                certificate(Thumbprint="D" * 40, SerialNumber="0D", NotAfter="1/1/2030 1:00:00 PM",
                                            NotBefore="1/1/2029 1:00:00 PM")]})  # 1/1: the same either way
    outcomes, findings = judge(folder, now="2030-03-20T00:00:00")
    assert {f.subject[-41:-1] for f in findings if f.check_id == "HT-CERT-001"} == {"D" * 40}
    assert outcomes["HT-CERT-001"].status is CheckStatus.FIRED
    assert outcomes["HT-CERT-001"].reason.startswith("could not judge CN=mail.contoso.com")
    assert "(thumbprint A1B2C3D4E5F60718293A4B5C6D7E8F9012345678)" in outcomes["HT-CERT-001"].reason


def test_a_date_read_one_way_on_another_server_settles_the_certificate(estate) -> None:
    folder = estate({"excas1": [certificate(NotAfter="11/2/2026 1:53:00 PM")],
                     "exmbx1": [certificate(NotAfter="02.11.2026 13:53:00")]})  # dotted: always day-first
    outcomes, findings = judge(folder, now="2026-11-20T00:00:00")  # 2026-11-02 is past; 2026-02-11 would be too
    [expired] = [f for f in findings if f.check_id == "HT-CERT-001"]
    assert "expired on 2026-11-02 (17 days before 2026-11-20)" in expired.message
    assert outcomes["HT-CERT-001"].reason == ""


@pytest.mark.parametrize(
    ("status", "services", "severity", "fix_words"),
    [
        ("Untrusted", "IIS, SMTP", "error", "ChainStatus"),
        ("RevocationCheckFailure", "SMTP", "error", "certutil -verify -urlfetch"),
        ("Invalid", "IIS", "warning", "ChainStatus"),
        ("PendingRequest", "None", "info", "Import-ExchangeCertificate"),
        ("DateInvalid", "SMTP", "error", "New-ExchangeCertificate"),
    ],
)
def test_status_not_valid(estate, status: str, services: str, severity: str, fix_words: str) -> None:
    folder = estate({"ex1": [certificate(Status=status, Services=services), self_signed("ex1")]})
    _, findings = judge(folder, now="2029-06-01T00:00:00")
    assert triples(findings, "HT-CERT-003") == {("HT-CERT-003", "ex1", severity)}
    [finding] = [f for f in findings if f.check_id == "HT-CERT-003"]
    assert fix_words in finding.remediation


def test_status_valid_is_quiet(estate) -> None:
    outcomes, _ = judge(estate({"ex1": [certificate(), self_signed("ex1"), auth_certificate()]}))
    assert outcomes["HT-CERT-003"].status is CheckStatus.PASSED


def test_missing_private_key(estate) -> None:
    folder = estate({"ex1": [certificate(HasPrivateKey="False")], "ex2": [certificate()]})
    outcomes, findings = judge(folder)
    assert triples(findings, "HT-CERT-004") == {("HT-CERT-004", "ex1", "error")}
    [finding] = [f for f in findings if f.check_id == "HT-CERT-004"]
    assert "certutil -repairstore my '0A1B2C3D4E5F60718293A4B5C6D7E8F9'" in finding.remediation


def test_server_with_only_self_signed_smtp_where_others_have_the_public_one(estate) -> None:
    folder = estate({
        "excas1": [self_signed("excas1"), auth_certificate()],
        "exmbx1": [certificate(), self_signed("exmbx1"), auth_certificate()],
    })
    _, findings = judge(folder)
    assert triples(findings, "HT-CERT-005") == {("HT-CERT-005", "excas1", "error")}
    [finding] = [f for f in findings if f.check_id == "HT-CERT-005"]
    assert "Export-ExchangeCertificate" in finding.remediation and "Import-ExchangeCertificate -Server 'excas1'" in finding.remediation


def test_every_server_with_a_public_smtp_certificate_is_quiet(estate) -> None:
    folder = estate({s: [certificate(), self_signed(s), auth_certificate()] for s in ("excas1", "exmbx1")})
    outcomes, findings = judge(folder)
    assert triples(findings, "HT-CERT-00") == set()
    for check_id in ("HT-CERT-004", "HT-CERT-005", "HT-CERT-006", "HT-CERT-007"):
        assert outcomes[check_id].status is CheckStatus.PASSED


def test_weak_key(estate) -> None:
    _, findings = judge(estate({"ex1": [certificate(PublicKeySize="1024"), self_signed("ex1")]}))
    assert triples(findings, "HT-CERT-006") == {("HT-CERT-006", None, "error")}


def test_partial_rollout_names_the_server_without_it_and_the_one_without_smtp(estate) -> None:
    folder = estate({
        "excas1": [certificate(), self_signed("excas1")],
        "excas2": [self_signed("excas2"), auth_certificate()],
        "exmbx1": [certificate(Services="IIS"), self_signed("exmbx1")],
    })
    _, findings = judge(folder)
    assert triples(findings, "HT-CERT-007") == {("HT-CERT-007", "excas2", "error"), ("HT-CERT-007", "exmbx1", "error")}
    fixes = {f.server: f.remediation for f in findings if f.check_id == "HT-CERT-007"}
    assert "Import-ExchangeCertificate -Server 'excas2'" in fixes["excas2"]
    assert "Get-ExchangeCertificate -Server 'exmbx1' -Thumbprint A1B2C3D4E5F60718293A4B5C6D7E8F9012345678 | Enable-ExchangeCertificate -Services SMTP" in fixes["exmbx1"]


def test_partial_rollout_needs_two_servers(estate) -> None:
    outcomes, _ = judge(estate({"ex1": [certificate()]}))
    assert outcomes["HT-CERT-007"].status is CheckStatus.NOT_APPLICABLE
