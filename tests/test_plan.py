"""Change plans: golden plans for a same-vendor renewal and a change of CA vendor, and the founding incident."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CASES, FIXTURES, run_cli

PLAN = FIXTURES / "plan"
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("case", ["renewal", "new-vendor"])
def test_golden_plans(monkeypatch, case: str) -> None:
    monkeypatch.chdir(PLAN)
    run = run_cli("plan", "--new-cert", f"{case}.pem", "--trust", f"{case}-root.pem", "estate", "--now", "2026-11-27",
                  "--format", "markdown")
    path = GOLDEN / f"plan-{case}.md"
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def plan(*argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = run_cli("plan", *argv, "--now", "2026-11-27", "--format", "json")
    assert "Traceback" not in run.err
    return run.code, json.loads(run.out)


def test_same_vendor_renewal_changes_no_connector() -> None:
    code, document = plan("--new-cert", str(PLAN / "renewal.pem"), "--trust", str(PLAN / "renewal-root.pem"),
                          str(PLAN / "estate"))
    assert code == 0 and not document["vendor_change"]
    assert {r["after"] for r in document["references"]} == {"unchanged"}
    assert [s["title"] for s in document["steps"]] == [
        "Put the chain in the right Windows stores on every server",
        "Import the new certificate with its private key, then bind SMTP",
        "Or re-run the Hybrid Configuration Wizard", "Verify before removing anything"]
    assert {r["severity"] for r in document["risks"]} == {"info"}


def test_new_vendor_changes_every_tls_certificate_name() -> None:
    code, document = plan("--new-cert", str(PLAN / "new-vendor.pem"), "--trust", str(PLAN / "new-vendor-root.pem"),
                          str(PLAN / "estate"))
    assert document["vendor_change"] and code == 0  # warnings only: the default --fail-on is error
    new_name = document["new_certificate"]["tls_certificate_name"]
    assert new_name.startswith("<I>CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, L=Salford, "
                               "S=Greater Manchester, C=GB<S>")
    changed = {(r["what"], r["after"]) for r in document["references"] if r["after"] != "unchanged"}
    assert changed == {("Send connector", new_name), ("Receive connector", new_name), ("Hybrid configuration", new_name)}
    titles = {r["title"] for r in document["risks"]}
    assert "A new root must be in Third-Party Root Certification Authorities on every server" in titles
    assert "A new issuer changes every TlsCertificateName" in titles
    commands = "\n".join(s["commands"] for s in document["steps"])
    assert "Cert:\\LocalMachine\\AuthRoot   # CN=USERTrust RSA Certification Authority" in commands
    assert f"Set-SendConnector -Identity 'Outbound to Office 365 - 6f7e8d9c-1a2b-4c3d-9e8f-0a1b2c3d4e5f' -TlsCertificateName '{new_name}'" in commands


def test_a_plan_would_have_prevented_the_founding_incident() -> None:
    code, document = plan("--new-cert", str(PLAN / "new-vendor.pem"), "--trust", str(PLAN / "new-vendor-root.pem"),
                          str(CASES / "founding-incident"))
    risk = next(r for r in document["risks"] if r["title"].startswith("A new root must be in Third-Party"))
    assert risk["severity"] == "error" and "Today already not ThirdParty on: excas1" in risk["detail"]
    assert code == 1 and document["servers"] == ["excas1", "exmbx1"]


def test_missing_intermediate_is_a_risk(tmp_path: Path) -> None:
    leaf_only = tmp_path / "leaf.pem"
    leaf_only.write_bytes((PLAN / "new-vendor.pem").read_bytes().split(b"-----END CERTIFICATE-----")[0]
                          + b"-----END CERTIFICATE-----\n")
    code, document = plan("--new-cert", str(leaf_only), str(PLAN / "estate"))
    titles = {r["title"]: r for r in document["risks"]}
    assert "Exchange Online cannot build the new certificate's chain" in titles
    assert "Sectigo RSA Domain Validation Secure Server CA" in titles["Exchange Online cannot build the new certificate's chain"]["detail"]
    assert code == 1


def test_plan_usage_errors(tmp_path: Path) -> None:
    run = run_cli("plan", str(PLAN / "estate"))
    assert run.code == 2 and "--new-cert" in run.err
    (tmp_path / "bad.pem").write_text("not a certificate")
    run = run_cli("plan", "--new-cert", str(tmp_path / "bad.pem"), str(PLAN / "estate"))
    assert run.code == 2 and run.err.startswith("hybridtls: error: ") and "Traceback" not in run.err


def test_plan_as_a_page(tmp_path: Path) -> None:
    page = tmp_path / "plan.html"
    run = run_cli("plan", "--new-cert", str(PLAN / "new-vendor.pem"), "--trust", str(PLAN / "new-vendor-root.pem"),
                  str(PLAN / "estate"), "--now", "2026-11-27", "--format", "html", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    assert run.code == 0 and "<script" not in html and "default-src 'none'" in html
    assert "READY" in html and "A new issuer changes every TlsCertificateName" in html
    assert "Set-SendConnector -Identity &#39;Outbound to Office 365" in html


def test_a_new_certificate_with_an_empty_subject_offers_no_tls_certificate_name(tmp_path: Path) -> None:
    from quirks import LEAF, QUIRKS, ROOT, quirky
    from reencode import rewrite

    def empty(tbs):  # type: ignore[no-untyped-def]
        tbs.subject.kids.clear()

    new, root = tmp_path / "new.cer", tmp_path / "root.pem"
    new.write_bytes(rewrite(quirky(QUIRKS[3]), ROOT.key, empty))
    root.write_bytes(ROOT.pem)
    code, document = plan("--new-cert", str(new), "--trust", str(root), str(PLAN / "estate"))
    assert document["new_certificate"]["tls_certificate_name"] is None
    assert any("redundant leading zero" in note for note in document["new_certificate"]["lenient"])
    assert document["risks"][0]["title"] == "The new certificate has an empty subject or issuer" and code == 1
    changed = {r["after"] for r in document["references"] if r["after"] != "unchanged"}
    assert changed == {"(none: the new certificate's subject or issuer is empty)"}
    commands = "\n".join(s["commands"] for s in document["steps"])
    assert "-TlsCertificateName <TlsCertificateName>" in commands and "<I>CN=Quirk Root CA" not in commands
    assert LEAF.der != new.read_bytes()
