"""The HT-STS checks: each fires on the record, policy or certificate that deserves it, and stays quiet on a
healthy domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
from factory import issue, name, rsa_key
from ststools import GOOD_POLICY, INTER, LEAF, NOW, PKI, sts_result

from hybridtls.checks import CheckContext, run_checks
from hybridtls.checks.mtasts import CHECKS, DANE_MX, _dane_mx, policy_fix
from hybridtls.model import (
    ChainAnalysis,
    ChainEnd,
    CheckStatus,
    EvidenceSet,
    MtaStsResult,
    PolicyFetch,
    Source,
)
from hybridtls.pki.facts import certificate_facts
from hybridtls.pki.mtasts import read_policy, read_sts_record, read_tlsrpt_record


def fired(*results: MtaStsResult, **extra: object) -> dict[str, list[tuple[str, str]]]:
    evidence = EvidenceSet(mta_sts=results, **extra)  # type: ignore[arg-type]
    outcomes = run_checks(evidence, CheckContext(now=NOW), CHECKS)
    assert not [o for o in outcomes if o.status is CheckStatus.CRASHED]
    return {o.check_id: [(f.severity.value, f.message) for f in o.findings] for o in outcomes if o.findings}


def test_a_healthy_domain_is_quiet_and_every_applicable_check_passed() -> None:
    evidence = EvidenceSet(mta_sts=(sts_result(),))
    outcomes = {o.check_id: o.status for o in run_checks(evidence, CheckContext(now=NOW), CHECKS)}
    assert outcomes == {"HT-STS-001": CheckStatus.PASSED, "HT-STS-002": CheckStatus.PASSED,
                        "HT-STS-003": CheckStatus.PASSED, "HT-STS-004": CheckStatus.PASSED,
                        "HT-STS-005": CheckStatus.PASSED, "HT-STS-006": CheckStatus.NOT_APPLICABLE}


def test_an_mx_missing_from_an_enforced_policy_is_an_error_with_the_policy_to_publish() -> None:
    result = sts_result(mx=("mail.contoso.com", "mx2.contoso.com"))
    [(severity, message)] = fired(result)["HT-STS-001"]
    assert severity == "error" and "mx2.contoso.com" in message and "will not deliver to it" in message
    [finding] = [f for o in run_checks(EvidenceSet(mta_sts=(result,)), CheckContext(now=NOW), CHECKS)
                 for f in o.findings if f.check_id == "HT-STS-001"]
    assert "#   mx: mx2.contoso.com" in finding.remediation and "#   mode: enforce" in finding.remediation
    assert "#   mx: *.mail.protection.outlook.com" in finding.remediation  # the patterns that work are kept
    assert "#   mx: contoso-com.mail.protection.outlook.com" not in finding.remediation
    assert '_mta-sts.contoso.com. 3600 IN TXT "v=STSv1; id=20261127T120000"' in finding.remediation


def test_no_mx_matching_at_all_says_mail_stops_and_testing_mode_is_a_warning() -> None:
    [(_, message)] = fired(sts_result(mx=("mx9.fabrikam.com",)))["HT-STS-001"]
    assert "mail to the domain from them stops" in message
    testing = sts_result(policy_text=GOOD_POLICY.replace("enforce", "testing"), mx=("mx9.fabrikam.com",))
    assert fired(testing)["HT-STS-001"][0][0] == "warning"


@pytest.mark.parametrize(("changes", "severity", "said"), [
    ({"sts_record": read_sts_record("_mta-sts.contoso.com", ["v=STSv1; id=a", "v=STSv1; id=b"]),
      "fetch": PolicyFetch.NOT_TRIED, "policy": None}, "warning", "2 records begin"),
    ({"fetch": PolicyFetch.REDIRECT, "fetch_detail": "HTTP 301", "policy": None}, "warning", "sts-policy-fetch-error"),
    ({"policy": read_policy(GOOD_POLICY.replace("max_age: 1209600", "max_age: forever"))}, "error",
     "sts-policy-invalid"),
    ({"policy": read_policy(GOOD_POLICY.replace("enforce", "testing").replace("STSv1\n", "STSv2\n"))}, "warning",
     "version is 'STSv2'"),
])
def test_an_unusable_record_or_policy_says_what_senders_do(changes: dict[str, object], severity: str,
                                                           said: str) -> None:
    [(got, message)] = fired(sts_result(**changes))["HT-STS-002"]
    assert got == severity and said in message, message


def test_a_failed_txt_lookup_is_not_judged_rather_than_passed() -> None:
    broken = sts_result(sts_record=replace(read_sts_record("_mta-sts.contoso.com", []), error="SERVFAIL"),
                     fetch=PolicyFetch.NOT_TRIED, policy=None)
    outcomes = {o.check_id: o for o in run_checks(EvidenceSet(mta_sts=(broken,)), CheckContext(now=NOW), CHECKS)}
    assert outcomes["HT-STS-002"].status is CheckStatus.NOT_APPLICABLE and "SERVFAIL" in outcomes["HT-STS-002"].reason


@pytest.mark.parametrize(("changes", "said"), [
    ({"host_chain_judged": ChainAnalysis(leaf=LEAF, path=(LEAF,), end=ChainEnd.MISSING_ISSUER,
                                         missing_issuer="CN=Test TLS Issuing CA 2026")},
     "does not reach a trusted root (missing issuer: CN=Test TLS Issuing CA 2026)"),
    ({"host_name_covered": False}, "does not cover mta-sts.contoso.com"),
])
def test_a_policy_host_certificate_senders_refuse_is_an_error(changes: dict[str, object], said: str) -> None:
    [(severity, message)] = fired(sts_result(**changes))["HT-STS-003"]
    assert severity == "error" and said in message and "sts-webpki-invalid" in message


def test_an_expired_policy_host_certificate_is_an_error() -> None:
    expired = issue(name("mta-sts.contoso.com"), issuer=PKI.intermediate, key=rsa_key(slot=3),
                    dns=("mta-sts.contoso.com",), not_before=NOW - timedelta(days=200),
                    not_after=NOW - timedelta(days=1))
    leaf = certificate_facts(expired.cert, source=Source(path="probe"), label="expired")
    result = sts_result(host_chain=(leaf, INTER),
                     host_chain_judged=ChainAnalysis(leaf=leaf, path=(leaf, INTER), end=ChainEnd.TRUSTED))
    [(_, message)] = fired(result)["HT-STS-003"]
    assert "expired on 2026-11-26" in message


def test_a_tls_failure_after_the_handshake_is_a_fetch_failure_and_the_certificate_judged_too() -> None:
    result = sts_result(fetch=PolicyFetch.TLS_FAILED, fetch_detail="decryption failed", policy=None,
                        host_name_covered=False)
    found = fired(result)
    assert "decryption failed" in found["HT-STS-002"][0][1] and "does not cover" in found["HT-STS-003"][0][1]


@pytest.mark.parametrize(("changes", "check_id", "said"), [
    ({"mx_hosts": (), "mx_matches": ()}, "HT-STS-001", "no MX host of the domain"),
    ({"sts_record": replace(read_sts_record("_mta-sts.contoso.com", []), error="timeout"), "policy": None,
      "fetch": PolicyFetch.NOT_TRIED}, "HT-STS-004", "timeout"),
])
def test_what_could_not_be_looked_up_is_not_judged_never_passed(changes: dict[str, object], check_id: str,
                                                                said: str) -> None:
    outcomes = {o.check_id: o for o in run_checks(EvidenceSet(mta_sts=(sts_result(**changes),)),
                                                  CheckContext(now=NOW), CHECKS)}
    assert outcomes[check_id].status is CheckStatus.NOT_APPLICABLE and said in outcomes[check_id].reason


@pytest.mark.parametrize(("changes", "findings"), [
    ({"sts_record": read_sts_record("_mta-sts.contoso.com", []), "fetch": PolicyFetch.NOT_TRIED, "policy": None},
     [("info", "publishes no MTA-STS record")]),
    ({"policy": read_policy(GOOD_POLICY.replace("enforce", "testing"))}, [("info", "mode is testing")]),
    ({"policy": read_policy(GOOD_POLICY.replace("1209600", "3600"))}, [("warning", "max_age is 3600 seconds")]),
])
def test_weak_protection_is_said(changes: dict[str, object], findings: list[tuple[str, str]]) -> None:
    got = fired(sts_result(**changes))["HT-STS-004"]
    assert [(s, said) for s, _ in got for _s, said in findings if said in _] == findings


def test_no_or_malformed_tlsrpt_record() -> None:
    none, _ = read_tlsrpt_record("_smtp._tls.contoso.com", [])
    assert fired(sts_result(tlsrpt_record=none))["HT-STS-005"][0][0] == "info"
    bad, rua = read_tlsrpt_record("_smtp._tls.contoso.com", ["v=TLSRPTv1; rua=tls@contoso.com"])
    [(severity, message)] = fired(sts_result(tlsrpt_record=bad, tlsrpt_rua=rua))["HT-STS-005"]
    assert severity == "warning" and "neither mailto" in message


def test_hostile_names_never_reach_the_fix() -> None:
    result = sts_result(domain="contoso.com\nRemove-Item C:\\ -Recurse", mx=("mx;rm -rf /", "mail.contoso.com"))
    fix = policy_fix(result)
    assert all(line.startswith("#") for line in fix.split("\n"))
    assert "rm -rf" not in fix and "Remove-Item" not in fix and "<MxHost>" in fix and "<Domain>" in fix


def test_inbound_dane_needs_the_mx_microsoft_host_in_mx_and_policy() -> None:
    expected = "contoso-com.o-v1.mx.microsoft"
    status = SimpleNamespace(feature_status="Enabled", expected_mx=expected, domain_name="contoso.com")
    evidence = SimpleNamespace(mta_sts=(sts_result(),), dnssec_statuses=(status,))
    [finding] = list(_dane_mx(evidence, CheckContext(now=NOW)))  # type: ignore[arg-type]
    assert finding.check_id == DANE_MX.id and f"not {expected}" in finding.message
    assert "does not list" in finding.message and f"#   mx: {expected}" in finding.remediation
    one_label = sts_result(policy_text=GOOD_POLICY + "mx: *.mx.microsoft\n", mx=(expected,))
    [finding] = list(_dane_mx(SimpleNamespace(mta_sts=(one_label,), dnssec_statuses=(status,)),  # type: ignore[arg-type]
                              CheckContext(now=NOW)))
    assert "(mx mail.contoso.com, *.mail.protection.outlook.com, *.mx.microsoft) does not list" in finding.message
    moved = sts_result(policy_text=GOOD_POLICY + f"mx: {expected}\n", mx=(expected,))
    assert list(_dane_mx(SimpleNamespace(mta_sts=(moved,), dnssec_statuses=(status,)),  # type: ignore[arg-type]
                         CheckContext(now=NOW))) == []
    disabled = SimpleNamespace(feature_status="Disabled", expected_mx=expected, domain_name="contoso.com")
    assert list(_dane_mx(SimpleNamespace(mta_sts=(sts_result(),), dnssec_statuses=(disabled,)),  # type: ignore[arg-type]
                         CheckContext(now=NOW))) == []
