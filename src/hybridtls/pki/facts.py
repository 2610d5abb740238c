"""What Windows and Exchange would show for a certificate: a CertificateFile from a parsed X.509 certificate."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from hybridtls.model import CertificateFile, Source
from hybridtls.pki.der import DerError, tbs_fields
from hybridtls.pki.names import render_name

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
    der = cert.public_bytes(Encoding.DER)
    try:
        fields = tbs_fields(cert.tbs_certificate_bytes)
        serial, subject_der, issuer_der = fields.serial.hex().upper(), fields.subject, fields.issuer
        subject, issuer = _render(subject_der), _render(issuer_der)
    except DerError:
        serial, subject_der, issuer_der, subject, issuer = format(cert.serial_number, "X"), b"", b"", "", ""
    algorithm, size = _key(cert)
    dns_names = _dns_names(cert)
    oid = cert.signature_algorithm_oid.dotted_string
    try:
        hash_algorithm = cert.signature_hash_algorithm
        signature_hash = hash_algorithm.name if hash_algorithm else None
    except Exception:  # noqa: BLE001 - cryptography raises UnsupportedAlgorithm for odd OIDs; the hash is then unknown
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
        certificate_domains=dns_names or _common_names(cert),
        dns_names=dns_names,
        is_self_signed=bool(subject_der) and subject_der == issuer_der and _signs_itself(cert),
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
    except Exception:  # noqa: BLE001 - a malformed extension reads as absent; the rest of the certificate stands
        return None


def _dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    names = _extension(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, lambda v: v.get_values_for_type(x509.DNSName))
    return tuple(names or ())


def _common_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        return tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    except Exception:  # noqa: BLE001 - an undecodable subject has no usable common name
        return ()


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


def _signs_itself(cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # noqa: BLE001 - refused (SHA-1) or failed: check the signature itself
        return _verify_legacy(cert, cert)
    return True


def signed_by(child: CertificateFile, issuer: CertificateFile) -> bool:
    """Whether ``issuer``'s key made ``child``'s signature (and the names link)."""
    if child.issuer_der != issuer.subject_der:
        return False
    child_cert = x509.load_der_x509_certificate(child.der)
    issuer_cert = x509.load_der_x509_certificate(issuer.der)
    try:
        child_cert.verify_directly_issued_by(issuer_cert)
        return True
    except Exception:  # noqa: BLE001 - cryptography refuses SHA-1 here; check the signature itself
        return _verify_legacy(child_cert, issuer_cert)  # a SHA-1 link still links; HT-CHAIN-004 judges it


def _verify_legacy(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Verify a signature made with a hash cryptography no longer accepts for certificates (SHA-1)."""
    try:
        key = issuer.public_key()
        algorithm = child.signature_hash_algorithm
        if algorithm is None:
            return False
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except Exception:  # noqa: BLE001 - any failure: the signature does not verify
        return False
    return True
