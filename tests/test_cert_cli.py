from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CASES, run_cli
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from factory import issue, name, public_like_pki, rsa_key


@pytest.fixture
def pki_files(tmp_path: Path) -> dict[str, Path]:
    pki = public_like_pki()
    files = {}
    for label, issued in (("leaf", pki.leaf), ("inter", pki.intermediate), ("root", pki.root)):
        files[label] = tmp_path / f"{label}.pem"
        files[label].write_bytes(issued.pem)
    files["pfx"] = tmp_path / "hybrid.pfx"
    files["pfx"].write_bytes(pkcs12.serialize_key_and_certificates(
        b"hybrid", pki.leaf.key, pki.leaf.cert, [pki.intermediate.cert], serialization.BestAvailableEncryption(b"pw!")))
    return files


def test_cert_json_full_chain(pki_files) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("cert", str(pki_files["leaf"]), "--intermediates", str(pki_files["inter"]), "--trust",
                  str(pki_files["root"]), "--name", "mail.contoso.com", "--format", "json")
    document = json.loads(run.out)
    assert run.code == 0, run.out
    assert document["command"] == "cert" and document["findings"] == []
    [cert] = document["records"]["certificate_files"]
    assert cert["tls_certificate_name"] == ("<I>CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
                                            "<S>CN=mail.contoso.com, O=Contoso Ltd, C=US")
    [chain] = document["records"]["chains"]
    assert chain["end"] == "trusted" and len(chain["path"]) == 3
    assert chain["anchor_origin"] == f"--trust {pki_files['root']}"


def test_cert_terminal_gives_the_connector_commands(pki_files) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("cert", str(pki_files["leaf"]), "--width", "200")
    assert run.code == 1  # intermediate not supplied
    assert ("Set-SendConnector -Identity 'Outbound to Office 365*' -TlsCertificateName '<I>CN=Test TLS Issuing CA 2026, "
            "O=Test Trust Services, C=US<S>CN=mail.contoso.com, O=Contoso Ltd, C=US'") in run.out
    assert "Set-HybridConfiguration -TlsCertificateName '<I>" in run.out
    assert "HT-CHAIN-001" in run.out and "not supplied" in run.out


def test_pfx_password_from_file_and_environment(pki_files, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("pw!\n")
    run = run_cli("cert", str(pki_files["pfx"]), "--password-file", str(secret), "--format", "json")
    assert json.loads(run.out)["records"]["certificate_files"][0]["has_private_key"] is True
    assert "pw!" not in run.out and "pw!" not in run.err
    monkeypatch.setenv("HYBRIDTLS_PFX_PASSWORD", "wrong")
    run = run_cli("cert", str(pki_files["pfx"]))
    assert run.code == 2 and "wrong password for the PFX" in run.err.splitlines()[0]
    assert "wrong" not in run.err.splitlines()[0].split("hybrid.pfx")[0]


def test_hostile_certificate_names_are_inert(tmp_path: Path) -> None:
    hostile = issue(name("<script>alert(1)</script>\x1b]0;owned\x07", "O'Brien $env:USERNAME"), key=rsa_key(slot=7))
    path = tmp_path / "hostile.cer"
    path.write_bytes(hostile.der)
    run = run_cli("cert", str(path), "--width", "300")
    assert "\x1b" not in run.out and "\x07" not in run.out
    assert 'CN="<script>alert(1)</script>\\x1b]0;owned\\x07"' in run.out
    # a name holding control characters cannot be pasted as a literal: the fix names a placeholder instead
    assert "-TlsCertificateName <TlsCertificateName>" in run.out and "not safe to paste" in run.out
    quoted = issue(name("mail.contoso.com", "O'Brien $env:USERNAME"), key=rsa_key(slot=7))
    path.write_bytes(quoted.der)
    run = run_cli("cert", str(path), "--width", "300")
    assert "-TlsCertificateName '<I>" in run.out and "O=O''Brien $env:USERNAME" in run.out


def test_cert_files_join_the_exchange_records_in_check(tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(CASES / "founding-incident", case)
    quovadis = issue(name("QuoVadis EV SSL ICA G1", "QuoVadis Limited", "BM"), key=rsa_key(slot=8), ca=True)
    leaf = issue(name("owa.domain.com", "Domain Pty Ltd", "AU"), issuer=quovadis,
                 dns=("owa.domain.com", "autodiscover.domain.com"), serial=0x172FF4C1A3B4D13282A17C8080C1E552475CD4CB)
    (case / "owa.cer").write_bytes(leaf.der)
    run = run_cli("check", str(case), "--format", "json", "--now", "2016-02-20")
    document = json.loads(run.out)
    root_finding = next(f for f in document["findings"] if f["check_id"] == "HT-ROOT-001")
    assert root_finding["subject"].startswith("excas1: CN=owa.domain.com, O=Domain Pty Ltd, C=AU")
    assert any("filled in from the file" in n["message"] for n in document["records"]["notices"])
    ids = {f["check_id"] for f in document["findings"]}
    # no caIssuers and an issuer outside the root store: an unknown CA; and the test leaf is from 2026
    assert {"HT-CHAIN-002", "HT-CHAIN-003"} <= ids and "HT-CHAIN-001" not in ids


def test_fetch_aia_from_a_loopback_server(tmp_path: Path) -> None:
    import http.server
    import threading

    pki_dir = tmp_path / "www"
    pki_dir.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(pki_dir), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a: None  # type: ignore[method-assign]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        root = issue(name("Loopback Root", "Test"), key=rsa_key(slot=1), ca=True)
        inter = issue(name("Loopback Issuing CA", "Test"), issuer=root, key=rsa_key(slot=2), ca=True)
        leaf = issue(name("mail.contoso.com"), issuer=inter, dns=("mail.contoso.com",),
                     ca_issuers=(f"http://127.0.0.1:{port}/issuing.crt",))
        (pki_dir / "issuing.crt").write_bytes(inter.der)
        (tmp_path / "leaf.cer").write_bytes(leaf.der)
        (tmp_path / "root.cer").write_bytes(root.der)
        run = run_cli("cert", str(tmp_path / "leaf.cer"), "--trust", str(tmp_path / "root.cer"), "--fetch-aia",
                      "--format", "json")
        document = json.loads(run.out)
        assert document["records"]["chains"][0]["end"] == "trusted"
        [finding] = document["findings"]
        assert finding["check_id"] == "HT-CHAIN-001" and "downloaded with --fetch-aia" in finding["message"]
        assert "the intermediate is simply not being supplied" in finding["message"]
        # without --fetch-aia, no network: a private-looking URL and no issuer make it an unknown CA
        run = run_cli("cert", str(tmp_path / "leaf.cer"), "--trust", str(tmp_path / "root.cer"), "--format", "json")
        assert {f["check_id"] for f in json.loads(run.out)["findings"]} == {"HT-CHAIN-002"}
        # a URL that does not answer is a note, never a crash
        (pki_dir / "issuing.crt").unlink()
        run = run_cli("cert", str(tmp_path / "leaf.cer"), "--trust", str(tmp_path / "root.cer"), "--fetch-aia",
                      "--format", "json")
        notices = json.loads(run.out)["records"]["notices"]
        assert notices and "could not fetch the issuer" in notices[0]["message"]
    finally:
        server.shutdown()
