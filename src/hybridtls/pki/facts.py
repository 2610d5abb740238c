"""What Windows and Exchange would show for a certificate: a CertificateFile from a parsed X.509 certificate."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, load_der_public_key
from cryptography.x509.oid import ExtensionOID, NameOID

from hybridtls.model import CertificateFile, Source
from hybridtls.pki import lenient
from hybridtls.pki.der import DerError, children, oid_text, read_tlv, tbs_fields
from hybridtls.pki.lenient import RawCertificate
from hybridtls.pki.names import attribute_texts, render_name

_T = TypeVar("_T")

# Windows' names for signature algorithms (X509Certificate2.SignatureAlgorithm.FriendlyName).
_SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.4": "md5RSA", "1.2.840.113549.1.1.5": "sha1RSA", "1.2.840.113549.1.1.11": "sha256RSA",
    "1.2.840.113549.1.1.12": "sha384RSA", "1.2.840.113549.1.1.13": "sha512RSA", "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "sha1ECDSA", "1.2.840.10045.4.3.2": "sha256ECDSA", "1.2.840.10045.4.3.3": "sha384ECDSA",
    "1.2.840.10045.4.3.4": "sha512ECDSA", "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448",
    "1.2.840.10040.4.3": "sha1DSA",
}
# Windows' friendly names for extended key usages, as Exchange lists them in EnhancedKeyUsageList.
EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "Server Authentication", "1.3.6.1.5.5.7.3.2": "Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing", "1.3.6.1.5.5.7.3.4": "Secure Email", "1.3.6.1.5.5.7.3.8": "Time Stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP Signing", "1.3.6.1.4.1.311.10.3.4": "Encrypting File System",
    "2.5.29.37.0": "Any Purpose",
}
_KEY_USAGE = (
    ("digital_signature", "Digital Signature"), ("content_commitment", "Non-Repudiation"),
    ("key_encipherment", "Key Encipherment"), ("data_encipherment", "Data Encipherment"),
    ("key_agreement", "Key Agreement"), ("key_cert_sign", "Certificate Signing"), ("crl_sign", "CRL Signing"),
)


def certificate_facts(cert: x509.Certificate, *, source: Source, label: str,
                      has_private_key: bool | None = None) -> CertificateFile:
    """The facts of a certificate cryptography loaded. cryptography parses fields lazily: one it refuses on access
    (an empty RDN, a malformed extension) sends the whole certificate to the lenient reading."""
    der = cert.public_bytes(Encoding.DER)
    try:
        raw: RawCertificate | None = _raw(der)
    except DerError:
        raw = None
    try:
        return _strict_facts(cert, der, raw, source=source, label=label, has_private_key=has_private_key)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        if raw is None:  # neither reading works: the strict refusal is the one to report
            raise ValueError(strict_reason(exc)) from None
        return lenient_facts(der, source=source, label=label, has_private_key=has_private_key,
                             refused=strict_reason(exc))


def facts_from_der(der: bytes, *, source: Source, label: str) -> CertificateFile:
    """The facts of one DER certificate: strictly where cryptography loads it, else leniently. Raises DerError
    (or x509.InvalidVersion) when neither reads it."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except x509.InvalidVersion:
        raise
    except ValueError as exc:
        return lenient_facts(der, source=source, label=label, refused=strict_reason(exc))
    return certificate_facts(cert, source=source, label=label)


def strict_reason(exc: Exception) -> str:
    """cryptography's refusal in a few words: the ASN.1 error kind where it gives one."""
    text = str(exc)
    kind = re.search(r"kind: (\w+)", text)
    if kind:
        where = re.search(r'"TbsCertificate::(\w+)"', text)
        return kind.group(1) + (f" in the {where.group(1).removeprefix('raw_')}" if where else "")
    return text.split("\n", 1)[0][:120] or type(exc).__name__


def _strict_facts(cert: x509.Certificate, der: bytes, raw: RawCertificate | None, *, source: Source, label: str,
                  has_private_key: bool | None) -> CertificateFile:
    quirks = list(raw.quirks) if raw else []
    try:
        fields = tbs_fields(cert.tbs_certificate_bytes)
        serial, subject_der, issuer_der = fields.serial.hex().upper(), fields.subject, fields.issuer
        subject, issuer = _render(subject_der), _render(issuer_der)
    except DerError:
        serial, subject_der, issuer_der, subject, issuer = format(cert.serial_number, "X"), b"", b"", "", ""
    algorithm, size = _key(cert)
    if algorithm == "unknown" and raw is not None:
        algorithm, size = raw.key_algorithm, raw.key_size
    dns_names = _dns_names(cert)
    oid = cert.signature_algorithm_oid.dotted_string
    try:
        hash_algorithm = cert.signature_hash_algorithm
        signature_hash = hash_algorithm.name if hash_algorithm else None
    except UnsupportedAlgorithm:  # an odd signature OID: the hash is then unknown
        signature_hash = None
    return CertificateFile(
        source=source,
        label=label,
        der=der,
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - the thumbprint is SHA-1 by definition
        serial_number=serial,
        subject=subject,
        issuer=issuer,
        subject_der=subject_der,
        issuer_der=issuer_der,
        not_before=cert.not_valid_before_utc.replace(tzinfo=None),
        not_after=cert.not_valid_after_utc.replace(tzinfo=None),
        public_key_algorithm=algorithm,
        public_key_size=size,
        signature_algorithm=_SIGNATURE_NAMES.get(oid, oid),
        signature_hash=signature_hash,
        certificate_domains=dns_names or _common_names(subject_der),
        dns_names=dns_names,
        is_self_signed=(bool(subject_der) and subject_der == issuer_der and raw is not None
                        and _check(raw, raw.spki).ok is True),
        is_ca=_extension(cert, ExtensionOID.BASIC_CONSTRAINTS, lambda v: v.ca),
        key_usage=_extension(cert, ExtensionOID.KEY_USAGE, _key_usage) or (),
        extended_key_usage=_extension(
            cert, ExtensionOID.EXTENDED_KEY_USAGE,
            lambda v: tuple((EKU_NAMES.get(o.dotted_string, o.dotted_string), o.dotted_string) for o in v)) or (),
        ca_issuers=_extension(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS, _ca_issuers) or (),
        subject_key_id=_extension(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER, lambda v: v.digest.hex().upper()),
        authority_key_id=_extension(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
                                    lambda v: v.key_identifier.hex().upper() if v.key_identifier else None),
        has_private_key=has_private_key,
        lenient=tuple(quirks),
    )


def lenient_facts(der: bytes, *, source: Source, label: str, has_private_key: bool | None = None,
                  refused: str | None = None) -> CertificateFile:
    """The facts of a certificate read from its DER alone, for those the strict parser refuses (``refused`` says
    why). Raises DerError when even this reading fails."""
    raw = _raw(der)
    notes = [f"read leniently: the strict parser refused it ({refused})"] if refused else []
    notes += raw.quirks

    def read(oid: str, reader: Callable[[bytes], _T]) -> _T | None:
        value = raw.extension(oid)
        if value is None:
            return None
        try:
            return reader(value)
        except DerError:
            notes.append(f"the {lenient.extension_name(oid)} extension could not be read; left out")
            return None

    dns_names = read(lenient.SAN, lenient.dns_names) or ()
    ekus = read(lenient.EKU, lenient.extended_key_usages) or ()
    self_named = raw.subject == raw.issuer
    return CertificateFile(
        source=source,
        label=label,
        der=der,
        thumbprint=hashlib.sha1(der).hexdigest().upper(),  # noqa: S324 - the thumbprint is SHA-1 by definition
        serial_number=raw.serial.hex().upper(),
        subject=_render(raw.subject),
        issuer=_render(raw.issuer),
        subject_der=raw.subject,
        issuer_der=raw.issuer,
        not_before=raw.not_before,
        not_after=raw.not_after,
        public_key_algorithm=raw.key_algorithm,
        public_key_size=raw.key_size,
        signature_algorithm=_SIGNATURE_NAMES.get(raw.signature_algorithm, raw.signature_algorithm),
        signature_hash=(_pss_hash(raw.signature_parameters).name if raw.signature_algorithm == lenient.RSA_PSS
                        else lenient.SIGNATURE_HASHES.get(raw.signature_algorithm)),
        certificate_domains=dns_names or _common_names(raw.subject),
        dns_names=dns_names,
        is_self_signed=self_named and _check(raw, raw.spki).ok is True,
        is_ca=read(lenient.BASIC_CONSTRAINTS, lenient.basic_constraints_ca),
        key_usage=read(lenient.KEY_USAGE, lenient.key_usage) or (),
        extended_key_usage=tuple((EKU_NAMES.get(o, o), o) for o in ekus),
        ca_issuers=read(lenient.AIA, lenient.ca_issuer_urls) or (),
        subject_key_id=read(lenient.SKI, lenient.subject_key_id),
        authority_key_id=read(lenient.AKI, lenient.authority_key_id),
        has_private_key=has_private_key,
        lenient=tuple(notes),
    )


def _render(name_der: bytes) -> str:
    try:
        return render_name(name_der)
    except DerError:
        return ""  # as Windows: a name it cannot decode prints as empty


def _key(cert: x509.Certificate) -> tuple[str, int]:
    try:
        key = cert.public_key()
    except Exception:  # noqa: BLE001 - unsupported or malformed key: say so rather than fail the certificate
        return "unknown", 0
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


def _extension(cert: x509.Certificate, oid: x509.ObjectIdentifier, read):  # type: ignore[no-untyped-def]
    try:
        return read(cert.extensions.get_extension_for_oid(oid).value)
    except x509.ExtensionNotFound:
        return None


def _dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    names = _extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, lambda v: v.get_values_for_type(x509.DNSName))
    return tuple(names or ())


def _common_names(subject_der: bytes) -> tuple[str, ...]:
    """Every CN of the subject, decoded as Windows decodes it (see names.py)."""
    try:
        return attribute_texts(subject_der, NameOID.COMMON_NAME.dotted_string) if subject_der else ()
    except DerError:
        return ()  # a subject that cannot be decoded has no usable common name


def _key_usage(value: x509.KeyUsage) -> tuple[str, ...]:
    used = []
    for attribute, name in _KEY_USAGE:
        if getattr(value, attribute):
            used.append(name)
    if value.key_agreement:
        if value.encipher_only:
            used.append("Encipher Only")
        if value.decipher_only:
            used.append("Decipher Only")
    return tuple(used)


def _ca_issuers(value: x509.AuthorityInformationAccess) -> tuple[str, ...]:
    return tuple(
        str(d.access_location.value) for d in value
        if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    )


class SignatureCheck(NamedTuple):
    ok: bool | None  # None: the signature cannot be checked here
    reason: str = ""


def signature_check(child: CertificateFile, issuer: CertificateFile) -> SignatureCheck:
    """Whether ``issuer``'s key made ``child``'s signature, over the TBSCertificate bytes as given."""
    try:
        return _check(_raw(child.der), _raw(issuer.der).spki)
    except DerError as exc:
        return SignatureCheck(None, f"a certificate could not be read ({exc})")


def spki_of(der: bytes) -> bytes:
    """A certificate's SubjectPublicKeyInfo, DER, as given (DerError when it cannot be read)."""
    return _raw(der).spki


@functools.lru_cache(maxsize=512)
def _raw(der: bytes) -> RawCertificate:
    return lenient.read_certificate(der)


_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


def _check(child: RawCertificate, issuer_spki: bytes) -> SignatureCheck:
    """Verify with cryptography's public-key primitives, so that a certificate its X.509 parser refuses (or a
    SHA-1 signature it no longer accepts for certificates) is still checked."""
    oid = child.signature_algorithm
    try:
        key = load_der_public_key(issuer_spki)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return SignatureCheck(None, f"the issuer's public key cannot be used ({strict_reason(exc)})")
    try:
        if oid == lenient.RSA_PSS:
            if not isinstance(key, rsa.RSAPublicKey):
                return SignatureCheck(False, "an RSA-PSS signature, not an RSA key")
            pss = _pss_hash(child.signature_parameters)
            key.verify(child.signature, child.tbs, padding.PSS(padding.MGF1(pss), padding.PSS.AUTO), pss)
            return SignatureCheck(True)
        if oid not in lenient.SIGNATURE_HASHES:
            return SignatureCheck(None, f"the signature algorithm {_SIGNATURE_NAMES.get(oid, oid)} is not one "
                                        "hybridtls checks")
        name = lenient.SIGNATURE_HASHES[oid]
        algorithm = _HASHES[name]() if name else None
        if isinstance(key, rsa.RSAPublicKey) and algorithm and (oid.startswith("1.2.840.113549.1.1.")
                                                                or oid == "1.3.14.3.2.29"):  # OIW sha1WithRSA
            key.verify(child.signature, child.tbs, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm and oid.startswith("1.2.840.10045.4."):
            key.verify(child.signature, child.tbs, ec.ECDSA(algorithm))
        elif isinstance(key, dsa.DSAPublicKey) and algorithm:
            key.verify(child.signature, child.tbs, algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey) and oid == lenient.ED25519:
            key.verify(child.signature, child.tbs)
        elif isinstance(key, ed448.Ed448PublicKey) and oid == lenient.ED448:
            key.verify(child.signature, child.tbs)
        else:
            return SignatureCheck(False, "the signature algorithm does not fit the issuer's key")
    except InvalidSignature:
        return SignatureCheck(False, "the signature does not verify")
    except (ValueError, UnsupportedAlgorithm) as exc:
        return SignatureCheck(None, f"the signature cannot be checked here ({strict_reason(exc)})")
    return SignatureCheck(True)


def _pss_hash(parameters: bytes) -> hashes.HashAlgorithm:
    """The hash of RSASSA-PSS-params ([0] hashAlgorithm, SHA-1 by default)."""
    try:
        outer = read_tlv(parameters, 0)
        for item in children(parameters, outer):
            if item.tag == 0xA0:
                algorithm = read_tlv(parameters, item.content, item.end)
                oid = oid_text(read_tlv(parameters, algorithm.content, algorithm.end).body(parameters))
                return _PSS_HASHES.get(oid, hashes.SHA256)()
    except DerError:
        pass  # malformed parameters: try the default; the signature then fails to verify if it is wrong
    return hashes.SHA1()


_PSS_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "1.3.14.3.2.26": hashes.SHA1, "2.16.840.1.101.3.4.2.4": hashes.SHA224, "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384, "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
