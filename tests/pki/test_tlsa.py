"""TLSA records: presentation form, computed records, and matching a served chain as a DANE SMTP sender does.

The expected association data is computed here independently of hybridtls (cryptography's own DER encodings and
hashlib), and one vector is cross-checked with the openssl command line."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from factory import Issued, issue, name, public_like_pki, rsa_key
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.model import CertificateFile, Source, TlsaRecord
from hybridtls.pki.dane import TlsaSyntaxError, match, matches, parse_tlsa, tlsa_for, tlsa_name, unusable

HERE = Source(path="test")
PKI = public_like_pki(leaf_dns=("mx.contoso.test",))
OTHER = public_like_pki(leaf_dns=("mx.contoso.test",), key=rsa_key(slot=7))  # same CA, another leaf key


def facts(*issued: Issued) -> list[CertificateFile]:
    return [read_certificate_file(i.der, f"{i.cert.subject.rfc4514_string()}.cer")[0] for i in issued]


CHAIN = facts(PKI.leaf, PKI.intermediate)  # as a server serves it: the leaf and the intermediate, no root


def expected(issued: Issued, selector: int, mtype: int) -> str:
    content = issued.der if selector == 0 else issued.cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {0: content, 1: hashlib.sha256(content).digest(), 2: hashlib.sha512(content).digest()}[mtype].hex()


def record(usage: int, selector: int, mtype: int, data: str) -> TlsaRecord:
    return TlsaRecord(usage=usage, selector=selector, matching_type=mtype, data_hex=data, source=HERE)


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ee_every_selector_and_matching_type(selector: int, mtype: int) -> None:
    data = expected(PKI.leaf, selector, mtype)
    assert tlsa_for(CHAIN[0], 3, selector, mtype).data_hex == data
    assert matches(record(3, selector, mtype, data), CHAIN)
    assert not matches(record(3, selector, mtype, expected(OTHER.leaf, selector, mtype)), CHAIN)
    # the intermediate's association data is no DANE-EE match: EE matches the server certificate only
    assert not matches(record(3, selector, mtype, expected(PKI.intermediate, selector, mtype)), CHAIN)


@pytest.mark.parametrize("selector", [0, 1])
@pytest.mark.parametrize("mtype", [0, 1, 2])
def test_dane_ta_every_selector_and_matching_type(selector: int, mtype: int) -> None:
    data = expected(PKI.intermediate, selector, mtype)
    assert matches(record(2, selector, mtype, data), CHAIN, ["mx.contoso.test"])
    # the leaf is no trust anchor, and a CA the server does not chain to matches nothing
    assert not matches(record(2, selector, mtype, expected(PKI.leaf, selector, mtype)), CHAIN)
    stranger = issue(name("Stranger CA"), key=rsa_key(slot=8), ca=True)
    assert not matches(record(2, selector, mtype, expected(stranger, selector, mtype)), CHAIN)


def test_dane_ta_checks_the_name_dane_ee_does_not() -> None:
    ta = record(2, 1, 1, expected(PKI.intermediate, 1, 1))
    ee = record(3, 1, 1, expected(PKI.leaf, 1, 1))
    assert matches(ta, CHAIN, ["mx.contoso.test"]) and not matches(ta, CHAIN, ["mail.fabrikam.test"])
    assert "certificate-host-mismatch" in match(ta, CHAIN, ["mail.fabrikam.test"]).reason
    assert matches(ee, CHAIN, ["mail.fabrikam.test"])


def test_dane_ta_in_the_record_itself_need_not_be_served() -> None:
    served = facts(PKI.leaf, PKI.intermediate)
    root_whole = record(2, 0, 0, PKI.root.der.hex())
    assert matches(root_whole, served, ["mx.contoso.test"])  # leaf -> intermediate (served) -> root (in the TLSA)
    assert "carried in the TLSA record" in match(root_whole, served).reason
    assert not matches(root_whole, facts(PKI.leaf))  # the intermediate is missing: no path to the root
    assert not matches(record(2, 0, 1, expected(PKI.root, 0, 1)), served)  # a digest of an unserved root: no


def test_dane_ta_match_needs_a_signature_path_not_just_a_name() -> None:
    impostor = issue(PKI.intermediate.cert.subject, key=rsa_key(slot=9), ca=True)  # same name, another key
    served = facts(PKI.leaf, impostor)
    assert not matches(record(2, 0, 1, expected(impostor, 0, 1)), served, ["mx.contoso.test"])
    assert "does not chain to it" in match(record(2, 0, 1, expected(impostor, 0, 1)), served).reason


@pytest.mark.parametrize("usage", [0, 1])
def test_pkix_usages_are_unusable_for_smtp(usage: int) -> None:
    data = expected(PKI.leaf if usage == 1 else PKI.intermediate, 1, 1)
    found = match(record(usage, 1, 1, data), CHAIN)
    assert not found.matched and "RFC 7672" in found.reason


def test_unusable_records_say_why() -> None:
    assert "selector 7" in unusable(record(3, 7, 1, "00" * 32))
    assert "matching type 9" in unusable(record(3, 1, 9, "00"))
    assert "64 hex digits" in unusable(record(3, 1, 1, "00" * 31))
    assert "128 hex digits" in unusable(record(3, 1, 2, "00" * 32))
    assert unusable(record(3, 1, 1, "00" * 32)) == ""
    assert not matches(record(3, 1, 1, expected(PKI.leaf, 1, 1)), [])  # nothing served, nothing matched


def test_presentation_form() -> None:
    parsed = parse_tlsa("3 1 1 AB12 CD34", source=HERE, name="_25._tcp.mx.contoso.test", ttl=300)
    assert (parsed.usage, parsed.selector, parsed.matching_type, parsed.data_hex) == (3, 1, 1, "ab12cd34")
    assert parsed.presentation == "3 1 1 ab12cd34" and parsed.usage_name == "DANE-EE"
    assert tlsa_name("MX.Contoso.test.", 2711) == "_2711._tcp.mx.contoso.test"
    for bad in ("3 1 1", "256 1 1 ab", "3 1 1 abc", "3 1 1 zz", "a b c d", "3 1 1 ab;", "-1 1 1 ab"):
        with pytest.raises(TlsaSyntaxError):
            parse_tlsa(bad, source=HERE)


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.binary(min_size=1, max_size=80),
       st.lists(st.integers(1, 8), max_size=4), st.booleans())
def test_presentation_round_trips(usage: int, selector: int, mtype: int, data: bytes, cuts: list[int],
                                  upper: bool) -> None:
    text = data.hex().upper() if upper else data.hex()
    for cut in sorted(cuts, reverse=True):  # zone files and dig split the data with spaces
        text = text[:cut] + " " + text[cut:] if cut < len(text) else text
    parsed = parse_tlsa(f"  {usage}\t{selector} {mtype}  {text} ", source=HERE)
    assert (parsed.usage, parsed.selector, parsed.matching_type, bytes.fromhex(parsed.data_hex)) == \
        (usage, selector, mtype, data)
    assert parse_tlsa(parsed.presentation, source=HERE) == parsed


@given(st.text(max_size=200))
def test_any_text_parses_or_says_what_was_expected(text: str) -> None:
    try:
        parsed = parse_tlsa(text, source=HERE)
    except TlsaSyntaxError as exc:
        assert str(exc)
    else:
        assert 0 <= parsed.usage <= 255 and len(parsed.data_hex) % 2 == 0 and parsed.data_hex == parsed.data_hex.lower()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command line is not installed")
def test_3_1_1_agrees_with_openssl(tmp_path: Path) -> None:
    pem = tmp_path / "leaf.pem"
    pem.write_bytes(PKI.leaf.pem)
    pubkey = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-pubkey"], check=True,
                            capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pubkey, check=True,
                         capture_output=True).stdout
    assert tlsa_for(CHAIN[0]).presentation == "3 1 1 " + hashlib.sha256(der).hexdigest()


def test_dane_ta_checks_the_dates_below_the_anchor_dane_ee_does_not() -> None:
    from datetime import timedelta

    from factory import NOW

    stale = public_like_pki(leaf_dns=("mx.contoso.test",), key=rsa_key(slot=6), not_before=NOW - timedelta(days=190),
                            not_after=NOW - timedelta(days=10))
    chain = facts(stale.leaf, stale.intermediate)
    ta = record(2, 1, 1, expected(stale.intermediate, 1, 1))
    judged = match(ta, chain, ["mx.contoso.test"], NOW)
    assert not judged.matched and "certificate-expired" in judged.reason and "server certificate" in judged.reason
    assert matches(ta, chain, ["mx.contoso.test"], NOW - timedelta(days=20))  # within its dates then
    undated = match(ta, chain, ["mx.contoso.test"])
    assert undated.matched and "dates were not checked" in undated.reason  # said, never silently passed
    assert matches(record(3, 1, 1, expected(stale.leaf, 1, 1)), chain, (), NOW)  # DANE-EE: dates not checked
