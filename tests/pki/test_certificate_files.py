from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from factory import issue, name, public_like_pki, rsa_key
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import read_certificate_file


def test_facts_as_windows_shows_them() -> None:
    pki = public_like_pki()
    [leaf] = read_certificate_file(pki.leaf.pem, "leaf.pem")
    assert leaf.subject == "CN=mail.contoso.com, O=Contoso Ltd, C=US"
    assert leaf.issuer == "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
    assert leaf.tls_certificate_name == ("<I>CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
                                         "<S>CN=mail.contoso.com, O=Contoso Ltd, C=US")
    assert leaf.thumbprint == pki.leaf.cert.fingerprint(hashes.SHA1()).hex().upper()
    assert leaf.certificate_domains == ("mail.contoso.com", "autodiscover.contoso.com")
    assert leaf.public_key_size == 2048 and leaf.public_key_algorithm == "RSA"
    assert leaf.signature_algorithm == "sha256RSA" and not leaf.is_self_signed
    assert leaf.extended_key_usage == (("Server Authentication", "1.3.6.1.5.5.7.3.1"),
                                       ("Client Authentication", "1.3.6.1.5.5.7.3.2"))
    assert leaf.ca_issuers == ("http://crt.testtrust.example.com/issuing2026.crt",)
    [root] = read_certificate_file(pki.root.der, "root.cer")
    assert root.is_self_signed and root.is_ca


@pytest.mark.parametrize(("serial", "shown"), [(0x80FF, "0080FF"), (1, "01"), (0x7F01, "7F01"), (0xFF01, "00FF01")])
def test_serial_number_keeps_the_encoded_bytes(serial: int, shown: str) -> None:
    cert = issue(name("serial.contoso.com"), serial=serial)
    [facts] = read_certificate_file(cert.der, "s.cer")
    assert facts.serial_number == shown


def test_pem_bundle_with_key_p7b_and_base64(tmp_path) -> None:
    pki = public_like_pki()
    key_pem = pki.leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    bundle = b"friendly text\n" + pki.leaf.pem + key_pem + pki.intermediate.pem
    certs = read_certificate_file(bundle, "bundle.pem")
    assert [c.subject.split(",")[0] for c in certs] == ["CN=mail.contoso.com", "CN=Test TLS Issuing CA 2026"]
    assert certs[0].has_private_key is True and certs[0].source.line == 2
    p7 = pkcs7.serialize_certificates([pki.leaf.cert, pki.intermediate.cert], serialization.Encoding.DER)
    assert len(read_certificate_file(p7, "chain.p7b")) == 2
    p7_pem = pkcs7.serialize_certificates([pki.leaf.cert], serialization.Encoding.PEM)
    assert read_certificate_file(p7_pem, "chain.p7b")[0].subject.startswith("CN=mail.contoso.com")
    blob = base64.encodebytes(pki.leaf.der)
    assert read_certificate_file(blob, "rawdata.txt")[0].thumbprint == certs[0].thumbprint
    raw_json = json.dumps({"Thumbprint": "x", "RawData": list(pki.leaf.der)}).encode()
    assert read_certificate_file(raw_json, "cert.json")[0].thumbprint == certs[0].thumbprint
    byte_list = ("{" + ", ".join(str(b) for b in pki.leaf.der) + "}").encode()
    assert read_certificate_file(byte_list, "rawdata.txt")[0].thumbprint == certs[0].thumbprint


def test_pfx_with_and_without_password() -> None:
    pki = public_like_pki()
    plain = pkcs12.serialize_key_and_certificates(b"hybrid", pki.leaf.key, pki.leaf.cert, [pki.intermediate.cert],
                                                  serialization.NoEncryption())
    certs = read_certificate_file(plain, "plain.pfx")
    assert certs[0].has_private_key is True and len(certs) == 2
    locked = pkcs12.serialize_key_and_certificates(b"hybrid", pki.leaf.key, pki.leaf.cert, None,
                                                   serialization.BestAvailableEncryption(b"s3cret!"))
    asked: list[str] = []

    def passwords(path: str) -> bytes | None:
        asked.append(path)
        return b"s3cret!"

    assert read_certificate_file(locked, "locked.pfx", passwords)[0].has_private_key is True
    assert asked == ["locked.pfx"]
    with pytest.raises(EvidenceError) as wrong:
        read_certificate_file(locked, "locked.pfx", lambda path: b"guess")
    assert "wrong password" in wrong.value.message and "s3cret" not in str(wrong.value)
    with pytest.raises(EvidenceError) as none:
        read_certificate_file(locked, "locked.pfx", None)
    assert "protected by a password" in none.value.message and "--password-file" in (none.value.hint or "")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "does not parse"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "only a private key"),
        (b"hello world, not a certificate", "expected a certificate"),
        (b"\x30\x82\x01\x00" + b"\x00" * 40, "not a certificate"),
    ],
)
def test_bad_certificate_files(data: bytes, words: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        read_certificate_file(data, "bad.cer")
    assert words in caught.value.message


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_truncated_and_mutated_certificates_raise_only_evidence_error(data) -> None:  # type: ignore[no-untyped-def]
    der = _SAMPLE_DER
    cut = data.draw(st.integers(min_value=0, max_value=len(der) - 1))
    mutated = bytearray(der[:cut] if data.draw(st.booleans()) else der)
    for _ in range(data.draw(st.integers(min_value=0, max_value=4))):
        if mutated:
            mutated[data.draw(st.integers(min_value=0, max_value=len(mutated) - 1))] = data.draw(st.integers(0, 255))
    try:
        read_certificate_file(bytes(mutated), "fuzz.cer")
    except EvidenceError:
        pass


_SAMPLE_DER = issue(name("fuzz.contoso.com", "Contoso", "US"), key=rsa_key(slot=9), dns=("fuzz.contoso.com",)).der


def _with_mac_iterations(pfx: bytes, iterations: int) -> bytes:
    """The same PFX with its MacData asking for another iteration count (lengths re-encoded)."""
    from hybridtls.pki.der import children, read_tlv

    def tlv(tag: int, body: bytes) -> bytes:
        size = len(body)
        head = bytes([size]) if size < 0x80 else bytes([0x80 | ((size.bit_length() + 7) // 8)]) + size.to_bytes(
            (size.bit_length() + 7) // 8, "big")
        return bytes([tag]) + head + body

    outer = read_tlv(pfx, 0)
    version, auth_safe, mac_data = list(children(pfx, outer))
    digest, salt, _ = list(children(pfx, mac_data))
    count = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    mac = tlv(0x30, digest.whole(pfx) + salt.whole(pfx) + tlv(0x02, count))
    return tlv(0x30, version.whole(pfx) + auth_safe.whole(pfx) + mac)


def test_a_pfx_asking_for_absurd_iterations_is_refused_before_any_derivation(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    leaf = issue(name("mail.contoso.com"), dns=("mail.contoso.com",), key=rsa_key(slot=3))
    pfx = pkcs12.serialize_key_and_certificates(b"x", leaf.key, leaf.cert, None, BestAvailableEncryption(b"pw"))
    assert read_certificate_file(_with_mac_iterations(pfx, 2048), "same.pfx", lambda _: b"pw")  # still reads
    hostile = _with_mac_iterations(pfx, 100_000_000)
    with pytest.raises(EvidenceError, match=r"asks for 100,000,000 key-derivation iterations, over the limit of 1,000,000") as refused:
        read_certificate_file(hostile, "hostile.pfx", lambda _: b"pw")
    assert refused.value.hint == "if you trust the file, allow more with HYBRIDTLS_MAX_PFX_ITERATIONS=100000000"
    huge = _with_mac_iterations(pfx, 10**40)
    with pytest.raises(EvidenceError, match="more than 2\\^64"):
        read_certificate_file(huge, "huge.pfx", lambda _: b"pw")


def test_pem_blocks_are_found_in_linear_time_and_cited_by_line() -> None:
    import subprocess
    import sys

    # 20,000 BEGIN lines and no END: a lazy pattern rescanned the rest of the file per BEGIN (96 s; found looking
    # for patterns like the one bench/fuzz.py caught). In a process of its own: a thread could not time out.
    code = ("from hybridtls.evidence.certificates import read_certificate_file as r\n"
            "try:\n    r(b'-----BEGIN CERTIFICATE-----\\nAAAA\\n' * 20000, 'x.pem')\n"
            "except Exception as e:\n    print(type(e).__name__)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.stdout == "EvidenceError\n", run.stderr
    pki = public_like_pki()
    bundle = b"junk\n" + pki.leaf.pem + b"\n\n" + b"-----BEGIN CERTIFICATE-----\nnot base64\n" + pki.intermediate.pem
    with pytest.raises(EvidenceError) as bad:
        read_certificate_file(bundle, "bundle.pem")
    assert bad.value.line == 2 + pki.leaf.pem.count(b"\n") + 2  # the block that does not parse, by its line
