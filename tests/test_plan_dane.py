"""DANE in plan --new-cert: the TLSA record to publish before the swap, key reuse, and the golden plan of a DANE
estate (tests/fixtures/plan/dane, written once by its make_fixture.py)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

from conftest import FIXTURES, run_cli
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from factory import public_like_pki

from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.model import (
    ChainAnalysis,
    ChainEnd,
    EvidenceSet,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    ServerBasis,
    ServerRef,
    Source,
    StoreCertificate,
    TlsaLookup,
)
from hybridtls.pki.dane import observe, tlsa_for
from hybridtls.planning.build import dane_plan, rotation_of

DANE = FIXTURES / "plan" / "dane"
GOLDEN = Path(__file__).parent / "golden"


def spki_sha256(pem: Path) -> str:
    cert = x509.load_pem_x509_certificates(pem.read_bytes())[0]
    return hashlib.sha256(cert.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def plan(new: str, *extra: str, form: str = "json") -> tuple[int, str]:
    run = run_cli("plan", "--new-cert", str(DANE / new), "--trust", str(DANE / "root.pem"), str(DANE / "probe.json"),
                  "--now", "2026-11-27", "--format", form, *extra)
    assert "Traceback" not in run.err and "error" not in run.err, run.err
    return run.code, run.out


def test_golden_plan_for_a_dane_estate(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(DANE.parent)
    run = run_cli("plan", "--new-cert", "dane/new.pem", "--trust", "dane/root.pem", "dane/probe.json",
                  "--now", "2026-11-27", "--format", "markdown")
    path = GOLDEN / "plan-dane.md"
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def test_a_new_key_publishes_its_record_first_and_removes_the_old_one_last() -> None:
    code, out = plan("new.pem")
    document = json.loads(out)
    new_line = f"_25._tcp.mx.contoso.com. 3600 IN TLSA 3 1 1 {spki_sha256(DANE / 'new.pem')}"
    old_line = f"_25._tcp.mx.contoso.com. 3600 IN TLSA 3 1 1 {spki_sha256(DANE / 'current.pem')}"
    steps = document["steps"]
    assert steps[0]["title"] == "Publish the new TLSA record for mx.contoso.com before the swap"
    assert f"# add:  {new_line}" in steps[0]["commands"] and f"# keep: {old_line}" in steps[0]["commands"]
    assert steps[-1]["title"].startswith("Remove the old TLSA record") and f"# remove: {old_line}" in steps[-1]["commands"]
    binding = next(i for i, s in enumerate(steps) if s["title"].startswith("Import the new certificate"))
    assert binding > 0  # the record is published before the certificate is bound
    [risk] = [r for r in document["risks"] if "TLSA" in r["title"]]
    assert risk["severity"] == "error" and "tlsa-invalid" in risk["detail"]
    assert code == 1  # plan fails on error by default


def test_a_reused_key_needs_no_new_record() -> None:
    code, out = plan("new-same-key.pem")
    document = json.loads(out)
    assert not [s for s in document["steps"] if "TLSA" in s["title"]]
    [risk] = [r for r in document["risks"] if "TLSA" in r["title"]]
    assert risk["severity"] == "info" and "the key is reused" in risk["detail"]
    assert spki_sha256(DANE / "new-same-key.pem") == spki_sha256(DANE / "current.pem")


def test_without_tlsa_evidence_the_plan_has_no_dane_steps() -> None:
    run = run_cli("plan", "--new-cert", str(DANE / "new.pem"), "--trust", str(DANE / "root.pem"),
                  str(FIXTURES / "plan" / "estate"), "--now", "2026-11-27", "--format", "json")
    document = json.loads(run.out)
    assert not [s for s in document["steps"] if "TLSA" in s["title"]]
    assert not [r for r in document["risks"] if "TLSA" in r["title"]]
    [unknown] = [r for r in document["risks"] if r["title"] == "DANE not checked"]
    assert unknown["severity"] == "info" and "mail.contoso.com" in unknown["detail"]  # the estate's smart host


# ---------------------------------------------------------------- dane_plan on evidence built here (issue 13)

def _pki_probe(host: str, *, lookup: str, records: tuple = (), mx_secure: bool | None = None):  # type: ignore[no-untyped-def]
    pki = public_like_pki(leaf_dns=(host,))
    chain = tuple(read_certificate_file(i.der, "c.cer")[0] for i in (pki.leaf, pki.intermediate))
    probe = ProbeResult(host=host, address="127.0.0.2", port=25, expected_name=host, outcome=ProbeOutcome.OK,
                        stage=ProbeStep.QUIT, chain=chain)
    return chain, replace(probe, dane=observe(probe, lookup=TlsaLookup(lookup), secure=True if records else None,
                                              records=records, mx_secure=mx_secure, resolver="127.0.0.1:5353",
                                              error="SERVFAIL" if lookup == "servfail" else ""))


def _dane_plan(*probes):  # type: ignore[no-untyped-def]
    chain, _ = _pki_probe("new.contoso.test", lookup="none")
    return dane_plan(EvidenceSet(probes=probes), chain[0],
                     ChainAnalysis(leaf=chain[0], path=chain, end=ChainEnd.TRUSTED))


def test_a_failed_tlsa_lookup_is_a_risk_saying_the_sender_defers() -> None:
    _, probe = _pki_probe("mx.contoso.test", lookup="servfail")
    before, _, risks = _dane_plan(probe)
    [risk] = [r for r in risks if "_25._tcp.mx.contoso.test" in r.title]
    assert risk.severity.value == "warning" and "defers" in risk.detail
    _, probe = _pki_probe("mx.contoso.test", lookup="failed")
    _, _, risks = _dane_plan(probe)
    [risk] = [r for r in risks if "_25._tcp.mx.contoso.test" in r.title]
    assert "not determined" in risk.detail and "defers" not in risk.detail
    # behind an unsigned MX a DANE sender looks nothing up: no risk
    _, probe = _pki_probe("mx.contoso.test", lookup="servfail", mx_secure=False)
    assert not [r for r in _dane_plan(probe)[2] if "did not answer" in r.title]


def test_every_host_not_looked_up_is_named_even_when_another_was() -> None:
    _, looked = _pki_probe("mx1.contoso.test", lookup="none")
    _, never = _pki_probe("mx2.contoso.test", lookup="not_looked_up")
    _, _, risks = _dane_plan(looked, never)
    [unknown] = [r for r in risks if r.title == "DANE not checked"]
    assert "mx2.contoso.test" in unknown.detail and "mx1.contoso.test" not in unknown.detail
    _, _, risks = _dane_plan(looked)  # every host looked up: no notice
    assert not [r for r in risks if r.title == "DANE not checked"]
    _, failed = _pki_probe("mx3.contoso.test", lookup="servfail")  # said as a failed lookup, not as never looked up
    _, _, risks = _dane_plan(failed, never)
    [unknown] = [r for r in risks if r.title == "DANE not checked"]
    assert "mx2.contoso.test" in unknown.detail and "mx3.contoso.test" not in unknown.detail


def test_exchange_online_mx_tlsa_is_microsofts_not_the_estates() -> None:
    host = "contoso-com.o-v1.mx.microsoft"
    chain, _ = _pki_probe(host, lookup="none")
    _, probe = _pki_probe(host, lookup="found", records=(tlsa_for(chain[0], name=f"_25._tcp.{host}"),))
    before, after, risks = _dane_plan(probe)
    assert before == [] and after == [] and not [r for r in risks if host in r.title or host in r.detail]


# ---------------------------------------------------------------- the store listing the chain step reads (issue 13)

def test_a_store_entry_of_the_same_name_but_another_thumbprint_does_not_hold_the_intermediate() -> None:
    """A re-keyed or expired intermediate of the same name in the CA store is not the new chain's: import it."""
    chain, _ = _pki_probe("new.contoso.test", lookup="none")
    leaf, inter = chain
    server = ServerRef(name="EXCAS1", basis=ServerBasis.GIVEN)

    def listed(thumbprint: str | None) -> EvidenceSet:
        return EvidenceSet(store_certificates=(StoreCertificate(
            source=Source(path="stores.txt", line=1), server=server, store="CA", thumbprint=thumbprint,
            subject=inter.subject),))

    analysis = ChainAnalysis(leaf=leaf, path=chain, end=ChainEnd.TRUSTED)
    [other] = rotation_of(listed("AB" * 20), leaf, analysis).servers
    assert other.intermediates_missing == (inter.subject,)
    [same] = rotation_of(listed(inter.thumbprint), leaf, analysis).servers
    [unlisted] = rotation_of(listed(None), leaf, analysis).servers  # no thumbprint in the listing: the name decides
    assert same.intermediates_missing == () and unlisted.intermediates_missing == ()
