"""Every certificate Windows loads, cert loads: quirky encodings read leniently, with the same fields a strict
reading gives, each departure named, and signatures still checked over the TBS bytes as given."""

from __future__ import annotations

import base64
import itertools
import json
import time
from pathlib import Path

import pytest
from conftest import run_cli
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519
from factory import Issued, issue, name
from hypothesis import given
from hypothesis import strategies as st
from quirks import LEAF, QUIRKS, ROOT, SUBJECT, Node, Quirk, oid, quirky
from reencode import rewrite

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.model import ChainEnd, Source
from hybridtls.pki.chain import TrustAnchor, analyse_chain
from hybridtls.pki.der import DerError
from hybridtls.pki.facts import certificate_facts
from hybridtls.pki.lenient import read_certificate

ROOT_FACTS = certificate_facts(ROOT.cert, source=Source(path="root.pem"), label="root.pem, certificate 1")
ANCHORS = [TrustAnchor.of(ROOT_FACTS, "--trust root.pem")]
STRICT = certificate_facts(LEAF.cert, source=Source(path="leaf.cer"), label="leaf.cer, certificate 1")


def _strictly_refused(der: bytes) -> bool:
    try:
        cert = x509.load_der_x509_certificate(der)
        _ = cert.subject, cert.extensions, cert.not_valid_before_utc
    except ValueError:
        return True
    return False


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("quirk", QUIRKS, ids=lambda q: q.name)
def test_a_quirky_certificate_reads_as_windows_shows_it(quirk: Quirk) -> None:
    der = quirky(quirk)
    assert _strictly_refused(der) is quirk.strict_refuses
    [facts] = read_certificate_file(der, "leaf.cer")
    assert facts.subject == quirk.subject
    assert facts.issuer == "CN=Quirk Root CA, O=Quirk Trust, C=US"
    assert facts.serial_number == quirk.serial
    assert facts.not_before == (quirk.not_before or STRICT.not_before) and facts.not_after == STRICT.not_after
    assert facts.thumbprint == __import__("hashlib").sha1(der).hexdigest().upper()
    assert (facts.public_key_algorithm, facts.public_key_size) == ("RSA", 2048)
    assert facts.signature_algorithm == "sha256RSA" and facts.signature_hash == "sha256"
    assert facts.dns_names == ("mail.contoso.com", "autodiscover.contoso.com")
    assert facts.extended_key_usage == STRICT.extended_key_usage and facts.is_ca is False
    assert facts.ca_issuers == ("http://crt.quirk.example/root.crt",)
    assert (facts.subject_key_id, facts.authority_key_id) == (STRICT.subject_key_id, STRICT.authority_key_id)
    assert facts.key_usage == STRICT.key_usage
    assert any(quirk.note in note and "Windows" in note for note in facts.lenient) or quirk.name == "empty-rdn"
    assert any(quirk.note in note for note in facts.lenient)
    assert facts.lenient[0].startswith("read leniently") is not quirk.strict_reads_it
    chain = analyse_chain(facts, [], ANCHORS)  # the signature over the re-encoded TBS still verifies
    assert chain.end is ChainEnd.TRUSTED and chain.unchecked_signatures == ()


def test_a_well_formed_certificate_reads_the_same_both_ways() -> None:
    from hybridtls.pki.facts import lenient_facts

    lenient = lenient_facts(LEAF.der, source=STRICT.source, label=STRICT.label)
    assert lenient == STRICT and STRICT.lenient == ()


def test_a_signature_that_no_longer_matches_does_not_link() -> None:
    tampered = rewrite(LEAF.der, LEAF.key, QUIRKS[0].change)  # signed by the leaf's own key, not the root's
    [facts] = read_certificate_file(tampered, "leaf.cer")
    assert analyse_chain(facts, [], ANCHORS).end is ChainEnd.MISSING_ISSUER


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("pair", [p for p in itertools.combinations(QUIRKS, 2) if p[0].field != p[1].field], ids=lambda p: f"{p[0].name}+{p[1].name}")
def test_quirks_combine(pair: tuple[Quirk, Quirk]) -> None:
    first, second = pair
    [facts] = read_certificate_file(quirky(first, second), "leaf.pem")
    for quirk in pair:
        assert any(quirk.note in note for note in facts.lenient), (quirk.name, facts.lenient)
    assert analyse_chain(facts, [], ANCHORS).end is ChainEnd.TRUSTED


def test_pem_and_rawdata_fall_back_too() -> None:
    der = quirky(QUIRKS[0])
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    [from_pem] = read_certificate_file(pem, "leaf.pem")
    [from_json] = read_certificate_file(json.dumps({"RawData": list(der)}).encode(), "cert.json")
    assert from_pem.subject == from_json.subject == QUIRKS[0].subject
    assert from_pem.source.line == 1


def test_dsa_parameters_inherited_from_the_issuer() -> None:
    """A DSA leaf whose SubjectPublicKeyInfo leaves the parameters to its issuer: read, size unknown and said so;
    a certificate it signed links by name, with the unchecked signature named."""
    ca_key = dsa.generate_private_key(1024)
    ca = issue(name("DSA CA", "Quirk Trust"), key=ca_key, ca=True, hash_algorithm=None)
    inner = issue(name("DSA Issuing CA", "Quirk Trust"), issuer=ca, key=dsa.generate_private_key(1024), ca=True)

    def inherit(tbs):  # type: ignore[no-untyped-def]
        del tbs.spki.kids[0].kids[1:]

    inner_der = rewrite(inner.der, ca.key, inherit)
    leaf = issue(name("dsa.contoso.com"), issuer=inner, key=ROOT.key, dns=("dsa.contoso.com",))
    [inner_facts] = read_certificate_file(inner_der, "inner.cer")
    assert (inner_facts.public_key_algorithm, inner_facts.public_key_size) == ("DSA", 0)
    assert any("inherited from the issuer" in note for note in inner_facts.lenient)
    [leaf_facts] = read_certificate_file(leaf.der, "leaf.cer")
    ca_facts = certificate_facts(ca.cert, source=Source(path="ca.pem"), label="ca")
    chain = analyse_chain(leaf_facts, [inner_facts], [TrustAnchor.of(ca_facts, "--trust ca.pem")])
    assert chain.end is ChainEnd.TRUSTED and len(chain.path) == 3
    [unchecked] = chain.unchecked_signatures
    assert unchecked.startswith("CN=dsa.contoso.com -> CN=DSA Issuing CA, O=Quirk Trust: linked by name")


def test_ed25519_keys_and_signatures() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    subject = name("Ed Root")
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(7).not_valid_before(STRICT.not_before).not_valid_after(STRICT.not_after)
            .sign(key, None))
    root = Issued(cert, key)  # type: ignore[arg-type]

    def null_parameters(tbs):  # type: ignore[no-untyped-def]
        tbs.spki.kids[0].kids.append(Node(0x05))

    der = rewrite(root.der, key, null_parameters)
    [facts] = read_certificate_file(der, "ed.cer")
    assert (facts.public_key_algorithm, facts.public_key_size, facts.signature_algorithm) == ("Ed25519", 256, "Ed25519")
    assert any("Ed25519 key with parameters" in note for note in facts.lenient)
    [plain] = read_certificate_file(root.der, "ed.cer")
    assert plain.is_self_signed and plain.lenient == ()


def test_an_empty_subject_offers_no_tls_certificate_name(tmp_path: Path) -> None:
    def empty(tbs):  # type: ignore[no-untyped-def]
        tbs.subject.kids.clear()

    path = tmp_path / "empty.cer"
    path.write_bytes(rewrite(LEAF.der, ROOT.key, empty))
    [facts] = read_certificate_file(path.read_bytes(), "empty.cer")
    assert facts.subject == "" and facts.tls_certificate_name is None
    run = run_cli("cert", str(path), "--width", "200")
    assert "<I>CN=Quirk Root CA, O=Quirk Trust, C=US<S>'" not in run.out
    assert "-TlsCertificateName <TlsCertificateName>" in run.out
    assert "(none: the subject is empty" in run.out and "# <TlsCertificateName>: the certificate's subject" in run.out
    document = json.loads(run_cli("cert", str(path), "--format", "json").out)
    assert document["records"]["certificate_files"][0]["tls_certificate_name"] is None
    markdown = run_cli("cert", str(path), "--format", "markdown").out
    assert "(none: the subject is empty" in markdown


@pytest.mark.parametrize("fmt", ["terminal", "json", "html", "markdown"])
def test_the_lenient_notes_show_in_every_format(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "att.cer"
    path.write_bytes(quirky(QUIRKS[1]))
    run = run_cli("cert", str(path), "--format", fmt, "--width", "300")
    assert run.code in (0, 1), run.err
    if fmt == "json":
        [cert] = json.loads(run.out)["records"]["certificate_files"]
        assert "'&' in a PrintableString; Windows accepts it" in cert["lenient"]
    else:
        assert "in a PrintableString; Windows accepts it" in run.out.replace("&#39;", "'").replace("&amp;", "&")


def test_json_stays_valid_whatever_the_name_holds(tmp_path: Path) -> None:
    import jsonschema

    nasty = "line1\nline2\r\x00\x01\x1b[31m\u2028\"<S>\\"

    def control(tbs):  # type: ignore[no-untyped-def]
        tbs.subject.kids[1].kids[1].kids[1] = Node(0x0C, body=nasty.encode())

    path = tmp_path / "nasty.cer"
    path.write_bytes(rewrite(LEAF.der, ROOT.key, control))
    run = run_cli("cert", str(path), "--format", "json")
    document = json.loads(run.out)
    schema = json.loads((Path(__file__).parents[2] / "src/hybridtls/report/schema/report-v4.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    [cert] = document["records"]["certificate_files"]
    subject = 'O=Zed + CN="' + nasty.replace('"', '""') + '", C=US'  # quoted for the '"' and '<', '"' doubled
    assert cert["subject"] == subject
    assert cert["tls_certificate_name"] == "<I>CN=Quirk Root CA, O=Quirk Trust, C=US<S>" + subject
    assert "\x1b" not in run_cli("cert", str(path), "--width", "200").out  # the terminal never prints controls


# Hostile DER: one-line errors, linear time.

def _timed_refusal(data: bytes) -> str:
    started = time.perf_counter()
    with pytest.raises(DerError) as caught:
        read_certificate(data)
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_hostile_der_is_refused_quickly() -> None:
    depth = 50_000
    _timed_refusal(b"".join(b"\x30\x84" + (6 * (depth - 1 - i)).to_bytes(4, "big") for i in range(depth)))
    _timed_refusal(b"\x30\x84\xff\xff\xff\xff" + b"\x00" * 100)  # a length past the end
    _timed_refusal(LEAF.der[: len(LEAF.der) // 2])  # truncated
    many = b"\x31\x00" * 200_000
    huge_name = b"\x30\x83" + len(many).to_bytes(3, "big") + many
    _timed_refusal(b"\x30\x83" + (len(huge_name) + 4).to_bytes(3, "big") + b"\x30\x83"
                   + len(huge_name).to_bytes(3, "big") + huge_name)
    _timed_refusal(b"\x30\x84\x00\x00\x00\x08" + b"\x06\x82\x10\x00" + b"\x81" * 4096)


@given(st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_der_error(data: bytes) -> None:
    from hybridtls.pki.lenient import pkcs7_certificates

    for reader in (read_certificate, pkcs7_certificates):
        try:
            reader(data)
        except DerError:
            pass


@given(st.data())
def test_mutated_certificates_raise_only_der_error(data: st.DataObject) -> None:
    der = bytearray(quirky(QUIRKS[0]))
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(der) - 1))
        der[position] = data.draw(st.integers(0, 255))
    try:
        read_certificate(bytes(der))
    except DerError:
        pass
    try:
        read_certificate_file(bytes(der), "mutated.cer")
    except EvidenceError as exc:
        assert "\n" not in exc.message


@pytest.mark.filterwarnings("ignore")
@given(st.sets(st.sampled_from([q for q in QUIRKS if q.name not in ("ampersand", "at-sign", "utctime-offset",
                                                                    "generalized-before-2050", "serial-negative")]),
               min_size=1, max_size=4))
def test_generated_quirk_combinations_read_back(chosen: set[Quirk]) -> None:
    quirks = list({q.field: q for q in sorted(chosen, key=lambda q: q.name)}.values())
    [facts] = read_certificate_file(quirky(*quirks), "leaf.cer")
    for quirk in quirks:
        assert any(quirk.note in note for note in facts.lenient), (quirk.name, facts.lenient)
    if not any(q.name == "unsorted-set" for q in quirks):
        assert facts.subject == SUBJECT
    assert facts.dns_names == ("mail.contoso.com", "autodiscover.contoso.com")
    assert analyse_chain(facts, [], ANCHORS).end is ChainEnd.TRUSTED


def test_oid_helper_round_trips() -> None:
    from hybridtls.pki.der import oid_text

    assert oid_text(oid("1.2.840.113549.1.9.1")) == "1.2.840.113549.1.9.1"


def test_saved_reports_and_anchors_read_lenient_certificates_again() -> None:
    from hybridtls.pki.facts import facts_from_der

    der = quirky(QUIRKS[0])
    [read] = read_certificate_file(der, "leaf.cer")
    again = facts_from_der(der, source=read.source, label=read.label)
    assert again == read and again.lenient[0].startswith("read leniently")
    with pytest.raises(DerError):
        facts_from_der(b"\x30\x03\x02\x01\x01", source=read.source, label=read.label)


def _p7b(*certificates: bytes) -> bytes:
    """A degenerate PKCS#7 SignedData holding the certificates as given (what certutil and browsers export)."""
    from reencode import parse

    signed_data = Node(0x30, constructed=True, kids=[
        Node(0x02, body=b"\x01"), Node(0x31, constructed=True),
        Node(0x30, constructed=True, kids=[Node(0x06, body=oid("1.2.840.113549.1.7.1"))]),
        Node(0xA0, constructed=True, kids=[parse(c) for c in certificates]),
        Node(0x31, constructed=True)])
    return Node(0x30, constructed=True, kids=[Node(0x06, body=oid("1.2.840.113549.1.7.2")),
                                              Node(0xA0, constructed=True, kids=[signed_data])]).encode()


def test_a_pkcs7_bundle_with_a_quirky_certificate_reads_leniently() -> None:
    der = quirky(QUIRKS[1])
    bundle = _p7b(der, ROOT.der)
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(bundle) + b"-----END PKCS7-----\n"
    for data, where in ((bundle, "chain.p7b"), (pem, "chain.p7c")):
        leaf, root = read_certificate_file(data, where)
        assert leaf.der == der and leaf.subject == QUIRKS[1].subject and leaf.lenient[0].startswith("read leniently")
        assert root.subject == "CN=Quirk Root CA, O=Quirk Trust, C=US" and root.lenient == ()
        assert (leaf.label, root.label) == (f"{where}, certificate 1", f"{where}, certificate 2")
        assert analyse_chain(leaf, [root], ANCHORS).end is ChainEnd.TRUSTED
    hollow = bytes.fromhex("300B" "3000" "3003060100" "03020000")  # a TBSCertificate with no fields
    with pytest.raises(EvidenceError, match="a certificate in the PKCS#7 bundle that does not parse .*fewer than six"):
        read_certificate_file(_p7b(der, hollow), "broken.p7b")


@pytest.mark.parametrize(("tag", "text", "expected", "note"), [
    (0x17, b"261231240000Z", "2027-01-01 00:00:00", "24:00:00"),
    (0x17, b"261231235960Z", "2026-12-31 23:59:59", "leap second"),
    (0x18, b"20261231235959.123Z", "2026-12-31 23:59:59", "fractional seconds"),
    (0x17, b"2612312359-0130", "2027-01-01 01:29:00", "time zone offset"),
    (0x17, b"491231235959Z", "2049-12-31 23:59:59", ""),
    (0x17, b"500101000000Z", "1950-01-01 00:00:00", ""),
])
def test_odd_times_read_as_instants(tag: int, text: bytes, expected: str, note: str) -> None:
    def change(tbs):  # type: ignore[no-untyped-def]
        tbs.validity.kids[1] = Node(tag, body=text)

    raw = read_certificate(rewrite(LEAF.der, ROOT.key, change))
    assert f"{raw.not_after:%Y-%m-%d %H:%M:%S}" == expected
    assert any(note in q for q in raw.quirks) if note else raw.quirks == ()


@pytest.mark.parametrize("text", [b"2613311200Z", b"26123112Z", b"2612311200", b"26123112\xb2\xb20Z", b"2612311200+01"])
def test_impossible_times_are_refused_in_one_line(text: bytes) -> None:
    def change(tbs):  # type: ignore[no-untyped-def]
        tbs.validity.kids[1] = Node(0x17, body=text)

    _timed_refusal(rewrite(LEAF.der, ROOT.key, change))


@pytest.mark.parametrize("kind", ["rsa-sha1", "rsa-pss", "ecdsa", "ed25519", "ed448", "dsa"])
def test_signatures_are_checked_for_every_algorithm_windows_uses(kind: str) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, padding

    from hybridtls.pki.facts import signature_check

    keys = {"ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()), "ed25519": ed25519.Ed25519PrivateKey.generate,
            "ed448": ed448.Ed448PrivateKey.generate, "dsa": lambda: dsa.generate_private_key(1024)}
    issuer_key = keys.get(kind, lambda: ROOT.key)()
    if kind == "rsa-sha1":
        issuer = issue(name("SHA-1 CA"), key=issuer_key, ca=True)
        child = issue(name("sha1.contoso.com"), issuer=issuer, key=LEAF.key, hash_algorithm=hashes.SHA1())
    else:
        subject = name(f"{kind} CA")
        no_hash = kind in ("ed25519", "ed448")
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(issuer_key.public_key()).serial_number(1)
                   .not_valid_before(STRICT.not_before).not_valid_after(STRICT.not_after))
        issuer = Issued(builder.sign(issuer_key, None if no_hash else hashes.SHA256()), issuer_key)
        child_builder = (x509.CertificateBuilder().subject_name(name(f"{kind}.contoso.com")).issuer_name(subject)
                         .public_key(LEAF.key.public_key()).serial_number(2)
                         .not_valid_before(STRICT.not_before).not_valid_after(STRICT.not_after))
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH) if kind == "rsa-pss" else None
        child = Issued(child_builder.sign(issuer_key, None if no_hash else hashes.SHA256(), rsa_padding=pss), LEAF.key)
    [issuer_facts] = read_certificate_file(issuer.der, "ca.cer")
    [child_facts] = read_certificate_file(child.der, "leaf.cer")
    assert signature_check(child_facts, issuer_facts).ok is True
    assert signature_check(child_facts, STRICT if kind.startswith("rsa") else ROOT_FACTS).ok is False
