"""Change plans: golden plans for a same-vendor renewal and a change of CA vendor, and the founding incident."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import CASES, FIXTURES, format_list, run_cli

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
    assert not document["vendor_change"]
    assert {r["after"] for r in document["references"]} == {"unchanged"}
    assert [s["title"] for s in document["steps"]] == [
        "Put the chain in the right Windows stores on every server",
        "Import the new certificate with its private key, then bind SMTP",
        "Or re-run the Hybrid Configuration Wizard", "Put the next rotation in the calendar: by 2027-07-22",
        "Verify before removing anything"]
    # the renewal fixture is valid 395 days from 2026-11-01, which no public CA may issue since 2026-03-15 (SC-081)
    assert code == 0 and {(r["severity"], r["title"]) for r in document["risks"]} == {
        ("info", "Install it with its private key"), ("warning", "Longer-lived than a public CA may issue"),
        ("info", "DANE not checked"), ("info", "MTA-STS not checked")}


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


def _store_table(store: str, rows: list[tuple[str, str]]) -> str:
    lines = [f"PS C:\\Users\\admin> Get-ChildItem Cert:\\LocalMachine\\{store}", "", "",
             f"   PSParentPath: Microsoft.PowerShell.Security\\Certificate::LocalMachine\\{store}", "",
             "Thumbprint                                Subject", "----------                                -------"]
    lines += [f"{thumbprint}  {subject}" for thumbprint, subject in rows]
    return "\n".join(lines) + "\n\n"


def rotation_estate(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    """The plan estate, plus Exchange Online's accepted domains and two servers' store listings: EXCAS1 holds the new
    root in AuthRoot and its intermediate in CA; EXMBX1 has the root only in Root and no intermediate. The new
    certificate (built now) has Server Authentication only and a name outside the tenant."""
    from datetime import timedelta

    from cryptography.x509.oid import ExtendedKeyUsageOID
    from factory import NOW, public_like_pki

    estate = tmp_path / "estate"
    shutil.copytree(PLAN / "estate", estate)
    shutil.copy(FIXTURES / "domains" / "online" / "Get-AcceptedDomain-fl.txt", estate / "exchange-online")
    pki = public_like_pki(leaf_dns=("mail.contoso.com", "smtp.fabrikam.net"), eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
                          not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=170))
    root, inter, leaf = (pki.root.cert, pki.intermediate.cert, pki.leaf.cert)
    thumb = {name: c.fingerprint(__import__("cryptography.hazmat.primitives.hashes", fromlist=["SHA1"]).SHA1()).hex().upper()
             for name, c in (("ROOT", root), ("INTER", inter), ("LEAF", leaf))}
    root_subject = "CN=Test Root CA, O=Test Trust Services, C=US"
    inter_subject = "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
    other = ("DF3C24F9BFD666761B268073FE06D1CC8D4F82A4", "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US")
    (estate / "EXCAS1" / "AuthRoot.txt").write_text(_store_table("AuthRoot", [other, (thumb["ROOT"], root_subject)]))
    (estate / "EXCAS1" / "CA.txt").write_text(_store_table("CA", [(thumb["INTER"], inter_subject)]))
    (estate / "EXMBX1" / "AuthRoot.txt").write_text(_store_table("AuthRoot", [other]))
    (estate / "EXMBX1" / "Root.txt").write_text(_store_table("Root", [(thumb["ROOT"], root_subject)]))
    (estate / "EXMBX1" / "CA.txt").write_text(_store_table("CA", [
        ("1F4B0E7C2D5A8E3F6B9C0D1E2F3A4B5C6D7E8F90", "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US")]))
    (tmp_path / "new.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    return estate, tmp_path / "new.pem", tmp_path / "root.pem", thumb


def _normalised(text: str, thumb: dict[str, str], tmp_path: Path) -> str:
    for name, value in thumb.items():
        text = text.replace(value, f"<{name}-THUMBPRINT>")
    return text.replace(str(tmp_path), "<TMP>")


@pytest.mark.parametrize("form", ["markdown", "terminal"])
def test_golden_rotation_plan(monkeypatch, tmp_path: Path, form: str) -> None:  # type: ignore[no-untyped-def]
    estate, new, root, thumb = rotation_estate(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = run_cli("plan", "--new-cert", new.name, "--trust", root.name, estate.name, "--now", "2026-11-27",
                  "--format", form, *(["--width", "120"] if form == "terminal" else []))
    out = _normalised(run.out, thumb, tmp_path)
    path = GOLDEN / f"plan-rotation.{'md' if form == 'markdown' else 'txt'}"
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_rotation_plan_names_each_rotation_step(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    estate, new, root, thumb = rotation_estate(tmp_path)
    monkeypatch.chdir(tmp_path)  # relative paths in the citations
    code, document = plan("--new-cert", new.name, "--trust", root.name, estate.name)
    rotation = document["rotation"]
    assert rotation["client_auth"] is False and rotation["eku"] == ["Server Authentication"]
    assert rotation["names_outside"] == ["smtp.fabrikam.net"]  # mail.contoso.com is under contoso.com
    assert rotation["max_lifetime_days"] == 200 and round(rotation["lifetime_days"]) == 171
    assert rotation["renew_by"].startswith("2027-03-20")  # two thirds of 171 days from 2026-11-26
    assert rotation["next_max_lifetime_days"] == 100
    servers = {s["server"]: s for s in rotation["servers"]}
    assert (servers["EXCAS1"]["root_in_authroot"], servers["EXCAS1"]["intermediates_missing"]) == (True, [])
    assert (servers["EXMBX1"]["root_in_authroot"], servers["EXMBX1"]["root_elsewhere"]) == (False, ["Root"])
    assert servers["EXMBX1"]["intermediates_missing"] == ["CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"]
    titles = {r["title"]: r["severity"] for r in document["risks"]}
    assert titles["The new certificate has no Client Authentication EKU"] == "warning"
    assert titles["Names outside the tenant's accepted domains"] == "warning"
    assert titles["Servers whose stores lack the new chain"] == "error"
    assert "Longer-lived than a public CA may issue" not in titles
    [imports] = [s for s in document["steps"] if s["title"] == "Put the chain in the right Windows stores on every server"]
    assert imports["commands"].splitlines() == [  # EXCAS1 holds both; EXMBX1 lacks both; every server is listed
        "# EXCAS1: the new root is in AuthRoot and every intermediate in CA already (estate/EXCAS1/AuthRoot.txt:8): "
        "nothing to import",
        "Invoke-Command -ComputerName 'EXMBX1' -ScriptBlock {",
        "    Import-Certificate -FilePath '\\\\fileserver\\share\\root.cer' -CertStoreLocation "
        "Cert:\\LocalMachine\\AuthRoot   # CN=Test Root CA, O=Test Trust Services, C=US",
        "    Import-Certificate -FilePath '\\\\fileserver\\share\\intermediate1.cer' -CertStoreLocation "
        "Cert:\\LocalMachine\\CA   # CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US",
        "}"]
    assert any(s["title"] == "Put the next rotation in the calendar: by 2027-03-20" for s in document["steps"])


def test_rotation_plan_as_a_page(tmp_path: Path) -> None:
    estate, new, root, _ = rotation_estate(tmp_path)
    run = run_cli("plan", "--new-cert", str(new), "--trust", str(root), str(estate), "--now", "2026-11-27",
                  "--format", "html")
    assert "<h2>Rotation</h2>" in run.out and "Client Authentication EKU: no (Server Authentication)" in run.out
    assert "Stores on EXMBX1: root NOT in AuthRoot (found in Root); missing from CA: CN=Test TLS Issuing CA 2026" in run.out


def test_servers_without_a_store_listing_import_everything(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    estate, new, root, _ = rotation_estate(tmp_path)
    for name in ("AuthRoot.txt", "Root.txt", "CA.txt"):
        (estate / "EXMBX1" / name).unlink()
    (estate / "EXCAS1" / "AuthRoot.txt").unlink()  # EXCAS1: only CA listed, so its root is not known to be there
    monkeypatch.chdir(tmp_path)
    code, document = plan("--new-cert", new.name, "--trust", root.name, estate.name)
    [step] = [s for s in document["steps"] if s["title"] == "Put the chain in the right Windows stores on every server"]
    lines = step["commands"].splitlines()
    assert lines[0] == "Invoke-Command -ComputerName 'EXCAS1' -ScriptBlock {"
    assert "AuthRoot" in lines[1] and len(lines) > 3 and lines[3] == "# no store listing in the evidence for these: " \
                                                                     "import everything"
    assert lines[4] == "Invoke-Command -ComputerName @('EXMBX1') -ScriptBlock {" and "CA" in lines[6]
    [excas1] = document["rotation"]["servers"]
    assert (excas1["root_in_authroot"], excas1["ca_listed"], excas1["intermediates_missing"]) == (None, True, [])


def test_hostile_store_listing_names_are_escaped_in_every_plan_format(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    estate, new, root, _ = rotation_estate(tmp_path)
    hostile = "EX<script>alert(1)</script>`$(x)"
    (estate / "remote").mkdir()
    (estate / "remote" / "Root.txt").write_text(format_list({  # Invoke-Command output names the server it ran on
        "Subject": "CN=Test Root CA, O=Test Trust Services, C=US", "Thumbprint": "AB" * 20,
        "PSParentPath": "Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Root", "PSComputerName": hostile}))
    monkeypatch.chdir(tmp_path)
    outputs = {form: run_cli("plan", "--new-cert", new.name, "--trust", root.name, estate.name, "--now", "2026-11-27",
                             "--format", form).out for form in ("html", "markdown", "terminal")}
    assert "<script>" not in outputs["html"] and "&lt;script&gt;" in outputs["html"]
    prose = outputs["markdown"].split("```")[::2]  # outside the fenced PowerShell blocks
    assert "- Stores on EX\\<script>" in outputs["markdown"]  # a backslash keeps the tag from opening
    assert not any(re.search(r"(?<!\\)<script>", part) for part in prose)
    assert "Stores on EX<script>" in outputs["terminal"]  # shown as text in a terminal, never run
    document = json.loads(run_cli("plan", "--new-cert", new.name, "--trust", root.name, estate.name, "--now",
                                  "2026-11-27", "--format", "json").out)
    [step] = [s for s in document["steps"] if s["title"] == "Put the chain in the right Windows stores on every server"]
    assert "-ComputerName 'EX<script>alert(1)</script>`$(x)' -ScriptBlock {" in step["commands"]  # one literal
