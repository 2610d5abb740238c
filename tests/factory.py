"""Real certificates for tests, built with cryptography: roots, intermediates and leaves of every defect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int = 2048, slot: int = 0) -> rsa.RSAPrivateKey:
    """Keys are cached per (size, slot): generating RSA keys is the slow part of these tests."""
    index = bits * 100 + slot
    if index not in _KEYS:
        _KEYS[index] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[index]


@dataclass
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def name(cn: str, org: str | None = None, country: str | None = None) -> x509.Name:
    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def issue(
    subject: x509.Name,
    *,
    issuer: Issued | None = None,
    key=None,  # type: ignore[no-untyped-def]
    ca: bool = False,
    dns: tuple[str, ...] = (),
    not_before: datetime = NOW - timedelta(days=30),
    not_after: datetime = NOW + timedelta(days=150),  # 180 days: within what a public CA may issue (SC-081)
    hash_algorithm: hashes.HashAlgorithm | None = None,
    eku: tuple[x509.ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
    ca_issuers: tuple[str, ...] = (),
    serial: int | None = None,
) -> Issued:
    key = key or rsa_key()
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    if eku and not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if ca_issuers:
        builder = builder.add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(u))
            for u in ca_issuers]), critical=False)
    if isinstance(hash_algorithm, hashes.SHA1):
        return Issued(_sign_sha1(builder.sign(signer_key, hashes.SHA256()), signer_key), key)
    cert = builder.sign(signer_key, hash_algorithm or hashes.SHA256())
    return Issued(cert, key)


def _der(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _sign_sha1(cert: x509.Certificate, signer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """cryptography no longer signs certificates with SHA-1; real CAs did until 2016. Re-sign one by hand."""
    sha256_rsa, sha1_rsa = bytes.fromhex("2A864886F70D01010B"), bytes.fromhex("2A864886F70D010105")
    tbs = cert.tbs_certificate_bytes.replace(sha256_rsa, sha1_rsa, 1)
    signature = signer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    algorithm = _der(0x30, _der(0x06, sha1_rsa) + b"\x05\x00")
    return x509.load_der_x509_certificate(_der(0x30, tbs + algorithm + _der(0x03, b"\x00" + signature)))


@dataclass
class Pki:
    root: Issued
    intermediate: Issued
    leaf: Issued


def public_like_pki(*, leaf_dns: tuple[str, ...] = ("mail.contoso.com", "autodiscover.contoso.com"), **leaf_options) -> Pki:  # type: ignore[no-untyped-def]
    """A root, an intermediate that publishes itself at an http caIssuers URL, and a leaf."""
    root = issue(name("Test Root CA", "Test Trust Services", "US"), key=rsa_key(slot=1), ca=True)
    intermediate = issue(name("Test TLS Issuing CA 2026", "Test Trust Services", "US"), issuer=root,
                         key=rsa_key(slot=2), ca=True, ca_issuers=("http://crt.testtrust.example.com/root.crt",))
    leaf_options.setdefault("key", rsa_key(slot=3))
    leaf = issue(name(leaf_dns[0], "Contoso Ltd", "US"), issuer=intermediate, dns=leaf_dns,
                 ca_issuers=("http://crt.testtrust.example.com/issuing2026.crt",), **leaf_options)
    return Pki(root, intermediate, leaf)
