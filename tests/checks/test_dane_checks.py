"""The DANE checks: each fires on the fault it names and stays quiet otherwise; DANE not in use is not a pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from factory import NOW, Issued, public_like_pki, rsa_key

from hybridtls.checks import CheckContext, run_checks
from hybridtls.checks.causes import explains
from hybridtls.checks.dane import CHECKS
from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.model import (
    CertificateFile,
    CheckStatus,
    DaneResult,
    EvidenceSet,
    Finding,
    FindingSubject,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    Severity,
    Source,
    TlsaLookup,
    TlsaRecord,
)
from hybridtls.pki.dane import observe, tlsa_for
from hybridtls.report.summary import rank_causes

JUDGED = NOW.replace(tzinfo=None)
HOST = "mx.contoso.test"
PKI = public_like_pki(leaf_dns=(HOST,))
NEW = public_like_pki(leaf_dns=(HOST,), key=rsa_key(slot=5), not_before=NOW - timedelta(days=1),
                     not_after=NOW + timedelta(days=199))
SOON = public_like_pki(leaf_dns=(HOST,), not_after=NOW + timedelta(days=12))


def facts(*issued: Issued) -> tuple[CertificateFile, ...]:
    return tuple(read_certificate_file(i.der, f"{i.cert.subject.rfc4514_string()}.cer")[0] for i in issued)


def served(pki=PKI, *, address: str = "127.0.0.2", outcome: ProbeOutcome = ProbeOutcome.OK) -> ProbeResult:  # type: ignore[no-untyped-def]
    chain = facts(pki.leaf, pki.intermediate) if outcome is ProbeOutcome.OK else ()
    return ProbeResult(host=HOST, address=address, port=25, expected_name=HOST, outcome=outcome,
                       stage=ProbeStep.QUIT, chain=chain)


def ee(pki) -> TlsaRecord:  # type: ignore[no-untyped-def]
    return tlsa_for(facts(pki.leaf)[0], source=Source(path="dns"), name=f"_25._tcp.{HOST}")


def ta(pki) -> TlsaRecord:  # type: ignore[no-untyped-def]
    return tlsa_for(facts(pki.intermediate)[0], 2, 1, 1, source=Source(path="dns"))


def with_dane(probe: ProbeResult, *records: TlsaRecord, lookup: TlsaLookup = TlsaLookup.FOUND,
              secure: bool | None = True, mx_secure: bool | None = None) -> ProbeResult:
    return replace(probe, dane=observe(probe, lookup=lookup, secure=secure, records=records, mx_secure=mx_secure,
                                       resolver="127.0.0.1:5353", error="SERVFAIL" if lookup is TlsaLookup.SERVFAIL else ""))


def judge(*probes: ProbeResult, files: tuple[CertificateFile, ...] = ()) -> tuple[dict[str, CheckStatus], list[Finding]]:
    outcomes = run_checks(EvidenceSet(probes=probes, certificate_files=files), CheckContext(now=JUDGED), CHECKS)
    return {o.check_id: o.status for o in outcomes}, [f for o in outcomes for f in o.findings]


def triples(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.subject, f.severity.value) for f in findings}


def test_no_match_names_the_address_and_the_record_to_publish() -> None:
    good = with_dane(served(address="127.0.0.2"), ee(PKI))
    bad = with_dane(served(NEW, address="127.0.0.3"), ee(PKI))  # node b got the new certificate, DNS did not
    status, findings = judge(good, bad)
    assert triples(findings) == {("HT-DANE-001", f"{HOST}[127.0.0.3]:25", "error")}
    [finding] = findings
    new_record = ee(NEW)
    assert f"_25._tcp.{HOST}. 3600 IN TLSA 3 1 1 {new_record.data_hex}" in finding.remediation
    assert f"Get-Item Cert:\\LocalMachine\\My\\{facts(NEW.leaf)[0].thumbprint}" in finding.remediation
    assert "ExportSubjectPublicKeyInfo" in finding.remediation and "tlsa-invalid" in finding.message
    assert "as reported by 127.0.0.1:5353 (AD bit)" in finding.message
    assert status["HT-DANE-002"] is CheckStatus.PASSED


def test_matching_records_are_quiet_dane_ta_included() -> None:
    status, findings = judge(with_dane(served(), ee(NEW), ee(PKI)), with_dane(served(NEW, address="127.0.0.3"), ta(NEW)))
    assert findings == [] and status["HT-DANE-001"] is CheckStatus.PASSED


def test_servfail_is_a_deferral_a_dane_sender_reports_as_dnssec_invalid() -> None:
    _, findings = judge(with_dane(served(), lookup=TlsaLookup.SERVFAIL, secure=None))
    [finding] = findings
    assert finding.check_id == "HT-DANE-001" and "'dnssec-invalid'" in finding.message and "defers" in finding.message
    assert "Resolve-DnsName -Name '_25._tcp.mx.contoso.test' -Type TLSA -DnssecOk" in finding.remediation


def test_starttls_gone_with_tlsa_published_is_refused() -> None:
    _, findings = judge(with_dane(served(outcome=ProbeOutcome.NO_STARTTLS), ee(PKI)))
    assert [(f.check_id, "starttls-not-supported" in f.message) for f in findings] == [("HT-DANE-001", True)]


def test_tlsa_without_dnssec_is_a_warning_not_a_refusal() -> None:
    status, findings = judge(with_dane(served(NEW), ee(PKI), secure=False), with_dane(served(NEW, address="127.0.0.3"),
                                                                                       ee(PKI), secure=False))
    assert triples(findings) == {("HT-DANE-002", f"_25._tcp.{HOST}", "warning")}  # said once per TLSA name
    assert "senders ignore" in findings[0].message and status["HT-DANE-001"] is CheckStatus.PASSED


def test_insecure_mx_makes_secure_tlsa_unused() -> None:
    _, findings = judge(with_dane(served(NEW), ee(PKI), mx_secure=False))
    assert triples(findings) == {("HT-DANE-002", f"_25._tcp.{HOST}", "warning")}
    assert "MX answer" in findings[0].message


def test_secure_tlsa_is_quiet_for_dnssec() -> None:
    status, findings = judge(with_dane(served(), ee(PKI), mx_secure=True))
    assert findings == [] and status["HT-DANE-002"] is CheckStatus.PASSED


def test_only_an_expiring_certificate_matches() -> None:
    status, findings = judge(with_dane(served(SOON), ee(SOON)))
    assert triples(findings) == {("HT-DANE-003", f"{HOST}[127.0.0.2]:25", "warning")}
    assert "12 day(s) left" in findings[0].message
    # a DANE-TA record also matching survives the renewal from the same CA: quiet
    status, findings = judge(with_dane(served(SOON), ee(SOON), ta(SOON)))
    assert findings == [] and status["HT-DANE-003"] is CheckStatus.PASSED


def test_during_a_rotation_only_the_old_key_matches() -> None:
    replacement = facts(NEW.leaf)
    _, findings = judge(with_dane(served(), ee(PKI)), files=replacement)
    assert triples(findings) == {("HT-DANE-003", f"{HOST}[127.0.0.2]:25", "warning")}
    assert ee(NEW).data_hex in findings[0].remediation and "Before the swap" in findings[0].remediation
    # the new key's record published beside the old one: quiet
    status, findings = judge(with_dane(served(), ee(PKI), ee(NEW)), files=replacement)
    assert findings == [] and status["HT-DANE-003"] is CheckStatus.PASSED


def test_dane_not_in_use_is_not_applicable_never_a_silent_pass() -> None:
    for probe in (with_dane(served(), lookup=TlsaLookup.NONE, secure=None), served(),
                  with_dane(served(), lookup=TlsaLookup.NOT_LOOKED_UP, secure=None)):
        status, findings = judge(probe)
        assert findings == [] and set(status.values()) == {CheckStatus.NOT_APPLICABLE}


EXPIRED = public_like_pki(leaf_dns=(HOST,), key=rsa_key(slot=6), not_before=NOW - timedelta(days=190),
                          not_after=NOW - timedelta(days=10))


def test_dane_ta_does_not_excuse_an_expired_leaf() -> None:
    """RFC 7671/7672 relax dates for DANE-EE only: under DANE-TA an expired leaf is certificate-expired."""
    probe = replace(served(EXPIRED), observed_at=NOW)
    _, findings = judge(with_dane(probe, ta(EXPIRED)))
    [finding] = findings
    assert (finding.check_id, finding.severity.value) == ("HT-DANE-001", "error")
    assert "'certificate-expired'" in finding.message and "IN TLSA" not in finding.remediation
    assert finding.command.startswith("New-ExchangeCertificate -GenerateRequest")
    # the same chain under a DANE-EE record of its key: dates are not checked, a DANE sender delivers
    status, findings = judge(with_dane(probe, ee(EXPIRED)))
    assert [f for f in findings if f.check_id == "HT-DANE-001"] == [] and status["HT-DANE-001"] is CheckStatus.PASSED


def test_dnssec_invalid_carries_its_own_one_line_fix_not_the_tlsa_record() -> None:
    _, findings = judge(with_dane(served(), lookup=TlsaLookup.SERVFAIL, secure=None))
    [finding] = findings
    assert finding.command == "Resolve-DnsName -Name '_25._tcp.mx.contoso.test' -Type TLSA -DnssecOk"


def test_a_lookup_that_got_no_answer_is_not_determined_not_an_exchange_online_deferral() -> None:
    _, findings = judge(with_dane(served(), lookup=TlsaLookup.FAILED, secure=None))
    [finding] = findings
    assert (finding.check_id, finding.severity.value) == ("HT-DANE-001", "info")
    assert "not determined" in finding.message and "dnssec-invalid" not in finding.message
    assert finding.command.startswith("Resolve-DnsName")


def test_a_failed_lookup_behind_an_insecure_mx_is_no_error() -> None:
    """A sender that reached the host by an unsigned MX never looks its TLSA records up (RFC 7672 2.2.1)."""
    for lookup in (TlsaLookup.SERVFAIL, TlsaLookup.FAILED):
        probe = with_dane(served(), lookup=lookup, secure=None, mx_secure=False)
        assert probe.dane is not None and probe.dane.result is None and "2.2.1" in probe.dane.detail
        _, findings = judge(probe)
        assert [f for f in findings if f.check_id == "HT-DANE-001"] == []


def test_no_handshake_attempted_is_no_dane_refusal() -> None:
    for outcome in (ProbeOutcome.BUSY, ProbeOutcome.PROTOCOL_ERROR):
        probe = with_dane(served(outcome=outcome), ee(PKI))
        assert probe.dane is not None and probe.dane.result is None and "not determined" in probe.dane.detail
        _, findings = judge(probe)
        assert [f for f in findings if f.check_id == "HT-DANE-001"] == []
    failed = with_dane(served(outcome=ProbeOutcome.TLS_FAILED), ee(PKI))  # STARTTLS started, the handshake failed
    assert failed.dane is not None and failed.dane.result is DaneResult.VALIDATION_FAILURE


def test_a_dane_refusal_and_an_enforced_sts_miss_explain_the_pending_trace_and_the_queue() -> None:
    def symptom(check_id: str) -> Finding:
        return Finding(check_id=check_id, severity=Severity.ERROR, subject=check_id, message="",
                       about=FindingSubject(name=check_id))

    trace, queue = symptom("HT-TRACE-001"), symptom("HT-QUEUE-001")
    [refused] = judge(with_dane(served(NEW), ee(PKI)))[1]
    [undetermined] = judge(with_dane(served(), lookup=TlsaLookup.FAILED, secure=None))[1]
    assert explains(refused, trace) and explains(refused, queue)
    assert not explains(undetermined, trace)  # a lookup we could not make stops no mail
    enforced = replace(symptom("HT-STS-001"), subject="mx")
    testing = replace(enforced, severity=Severity.WARNING)  # testing mode: senders still deliver
    assert explains(enforced, trace) and not explains(testing, queue)
    ranked, _ = rank_causes([trace, refused])
    assert [(c.check_id, [f.check_id for f in under]) for c, under in ranked] == [("HT-DANE-001", ["HT-TRACE-001"])]
