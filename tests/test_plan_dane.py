"""DANE in plan --new-cert: the TLSA record to publish before the swap, key reuse, and the golden plan of a DANE
estate (tests/fixtures/plan/dane, written once by its make_fixture.py)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from conftest import FIXTURES, run_cli
from cryptography import x509
from cryptography.hazmat.primitives import serialization

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
