"""A certificate read from its DER without a strict parser: what Windows loads, hybridtls loads.

``cryptography`` refuses certificates that Windows (crypt32) accepts and real CAs have issued: a SET that is not
DER-sorted, ``&`` or ``@`` in a PrintableString, a serial number with redundant leading zeros, a UTCTime without
seconds, an extension's ``critical`` written out as FALSE, lengths not in their shortest form, an empty RDN. This
module reads the fields Exchange shows straight from the bytes, and names each departure it met (``quirks``), so
the report can say what was read leniently. Reading is linear in the input and bounded: the structure walked is
the certificate's fixed shape, never a recursion driven by the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hybridtls.pki.der import DerError, Tlv, children, oid_text, read_tlv

MAX_CERTIFICATE = 1_000_000  # bytes; a certificate larger than this is not one Exchange will ever present
MAX_ITEMS = 10_000  # children read from any one SEQUENCE or SET

WINDOWS_ACCEPTS = "Windows accepts it"
_PRINTABLE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")
_STRING_NAMES = {0x13: "PrintableString", 0x16: "IA5String", 0x12: "NumericString"}

# Public key algorithms (SubjectPublicKeyInfo) and the names the strict path gives them.
RSA, RSA_PSS, EC, DSA = "1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10", "1.2.840.10045.2.1", "1.2.840.10040.4.1"
ED25519, ED448 = "1.3.101.112", "1.3.101.113"
_CURVES = {  # as cryptography names them (the strict path shows "ECDSA <curve.name>")
    "1.2.840.10045.3.1.7": ("secp256r1", 256), "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521), "1.3.132.0.10": ("secp256k1", 256),
    "1.2.840.10045.3.1.1": ("secp192r1", 192), "1.3.132.0.33": ("secp224r1", 224),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256), "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}
# Signature algorithms: OID -> hash name (as cryptography's HashAlgorithm.name), None where the hash is intrinsic.
SIGNATURE_HASHES: dict[str, str | None] = {
    "1.2.840.113549.1.1.4": "md5", "1.2.840.113549.1.1.5": "sha1", "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384", "1.2.840.113549.1.1.13": "sha512",
    "1.3.14.3.2.29": "sha1", "1.2.840.10045.4.1": "sha1", "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512",
    "1.2.840.10040.4.3": "sha1", "2.16.840.1.101.3.4.3.1": "sha224", "2.16.840.1.101.3.4.3.2": "sha256",
    ED25519: None, ED448: None,
}

# Extensions the tool uses.
SAN, EKU, BASIC_CONSTRAINTS, KEY_USAGE = "2.5.29.17", "2.5.29.37", "2.5.29.19", "2.5.29.15"
SKI, AKI, AIA = "2.5.29.14", "2.5.29.35", "1.3.6.1.5.5.7.1.1"
_CA_ISSUERS = "1.3.6.1.5.5.7.48.2"
_EXTENSION_NAMES = {SAN: "SubjectAltName", EKU: "EnhancedKeyUsage", BASIC_CONSTRAINTS: "BasicConstraints",
                    KEY_USAGE: "KeyUsage", SKI: "SubjectKeyIdentifier", AKI: "AuthorityKeyIdentifier",
                    AIA: "AuthorityInfoAccess"}
KEY_USAGE_BITS = ("Digital Signature", "Non-Repudiation", "Key Encipherment", "Data Encipherment", "Key Agreement",
                  "Certificate Signing", "CRL Signing", "Encipher Only", "Decipher Only")


@dataclass(frozen=True, slots=True, kw_only=True)
class RawCertificate:
    """The fields of a certificate as encoded, and how the encoding departs from DER / RFC 5280."""

    tbs: bytes  # the TBSCertificate exactly as given: what the signature covers
    signature_algorithm: str  # dotted OID of the outer signatureAlgorithm
    signature_parameters: bytes  # its parameters TLV, b"" when absent
    signature: bytes  # BIT STRING contents without the unused-bits octet
    serial: bytes  # INTEGER content octets, as encoded
    issuer: bytes  # whole Name TLVs
    subject: bytes
    not_before: datetime
    not_after: datetime
    spki: bytes  # the whole SubjectPublicKeyInfo TLV
    key_algorithm: str
    key_size: int
    extensions: tuple[tuple[str, bool, bytes], ...]  # (OID, critical, extnValue contents)
    quirks: tuple[str, ...]

    def extension(self, oid: str) -> bytes | None:
        return next((value for found, _, value in self.extensions if found == oid), None)


class _Reader:
    """read_tlv and children with a budget: every SEQUENCE/SET walked adds its children to a running count."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.quirks: list[str] = []

    def note(self, quirk: str) -> None:
        if quirk not in self.quirks:
            self.quirks.append(quirk)

    def tlv(self, pos: int, limit: int) -> Tlv:
        node = read_tlv(self.data, pos, limit)
        length_octets = node.content - pos - 1 - _tag_octets(node.tag)
        size = node.end - node.content
        if length_octets > 1 and size < 0x80 or length_octets > 2 and size < 1 << (8 * (length_octets - 2)):
            self.note(f"a length not in its shortest form (BER, not DER); {WINDOWS_ACCEPTS}")
        return node

    def kids(self, parent: Tlv) -> list[Tlv]:
        found: list[Tlv] = []
        pos = parent.content
        while pos < parent.end:
            child = self.tlv(pos, parent.end)
            found.append(child)
            if len(found) > MAX_ITEMS:
                raise DerError("too many elements")
            pos = child.end
        return found

    def expect(self, node: Tlv, tag: int, what: str) -> Tlv:
        if node.tag != tag:
            raise DerError(f"{what} has tag {node.tag:#04x}, not {tag:#04x}")
        return node


def _tag_octets(tag: int) -> int:
    return max(1, (tag.bit_length() + 7) // 8) - 1


def read_certificate(der: bytes) -> RawCertificate:
    """The certificate's fields as encoded. Raises DerError (one line) when even a lenient reading fails."""
    if len(der) > MAX_CERTIFICATE:
        raise DerError(f"{len(der):,} bytes is too large for a certificate")
    r = _Reader(der)
    outer = r.expect(r.tlv(0, len(der)), 0x30, "the certificate")
    if outer.end != len(der):
        r.note(f"{len(der) - outer.end} bytes after the certificate, ignored; {WINDOWS_ACCEPTS}")
    parts = r.kids(outer)
    if len(parts) != 3 or parts[0].tag != 0x30 or parts[1].tag != 0x30 or parts[2].tag != 0x03:
        raise DerError("not a certificate: expected SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING }")
    tbs_node, algorithm_node, signature_node = parts
    signature_algorithm, signature_parameters = _algorithm(r, algorithm_node)
    signature = _bit_string(r, signature_node)

    items = r.kids(tbs_node)
    if items and items[0].tag == 0xA0:
        version = r.kids(items[0])
        if len(version) != 1 or version[0].tag != 0x02:
            raise DerError("a malformed version")
        if version[0].body(der) == b"\x00":
            r.note(f"version 1 written out (a DEFAULT value DER leaves out); {WINDOWS_ACCEPTS}")
        items = items[1:]
    if len(items) < 6:
        raise DerError("the TBSCertificate has fewer than six fields")
    serial_node = r.expect(items[0], 0x02, "the serial number")
    serial = serial_node.body(der)
    _serial_quirks(r, serial)
    inner_algorithm, _ = _algorithm(r, r.expect(items[1], 0x30, "the TBS signature algorithm"))
    if inner_algorithm != signature_algorithm:
        r.note("the TBS and outer signature algorithms differ")
    issuer = r.expect(items[2], 0x30, "the issuer")
    subject = r.expect(items[4], 0x30, "the subject")
    for name in (issuer, subject):
        _name_quirks(r, name)
    validity = r.kids(r.expect(items[3], 0x30, "the validity"))
    if len(validity) != 2:
        raise DerError("the validity must hold two times")
    not_before, not_after = (_time(r, node) for node in validity)
    spki = r.expect(items[5], 0x30, "the public key")
    key_algorithm, key_size = _public_key(r, spki)
    extensions: list[tuple[str, bool, bytes]] = []
    for extra in items[6:]:
        if extra.tag == 0xA3:
            extensions = _extensions(r, extra)
        elif extra.tag not in (0x81, 0x82, 0xA1, 0xA2):  # issuer/subjectUniqueID
            r.note(f"an unexpected field (tag {extra.tag:#04x}) in the TBSCertificate, ignored")
    return RawCertificate(
        tbs=tbs_node.whole(der), signature_algorithm=signature_algorithm,
        signature_parameters=signature_parameters, signature=signature, serial=serial,
        issuer=issuer.whole(der), subject=subject.whole(der), not_before=not_before, not_after=not_after,
        spki=spki.whole(der), key_algorithm=key_algorithm, key_size=key_size, extensions=tuple(extensions),
        quirks=tuple(r.quirks),
    )


def _algorithm(r: _Reader, node: Tlv) -> tuple[str, bytes]:
    kids = r.kids(node)
    if not kids or kids[0].tag != 0x06:
        raise DerError("an AlgorithmIdentifier without an OID")
    return oid_text(kids[0].body(r.data)), kids[1].whole(r.data) if len(kids) > 1 else b""


def _bit_string(r: _Reader, node: Tlv) -> bytes:
    body = node.body(r.data)
    if not body:
        raise DerError("an empty BIT STRING")
    return body[1:]


def _serial_quirks(r: _Reader, serial: bytes) -> None:
    if not serial:
        raise DerError("an empty serial number")
    if len(serial) > 1 and serial[0] == 0 and serial[1] < 0x80:
        r.note(f"a serial number with redundant leading zero octets (Windows shows them); {WINDOWS_ACCEPTS}")
    elif serial[0] & 0x80:
        r.note(f"a negative serial number; {WINDOWS_ACCEPTS}")
    elif not serial.strip(b"\0"):
        r.note(f"a zero serial number; {WINDOWS_ACCEPTS}")
    if len(serial) > 20:
        r.note(f"a serial number longer than 20 octets; {WINDOWS_ACCEPTS}")


def _name_quirks(r: _Reader, name: Tlv) -> None:
    data = r.data
    for rdn in r.kids(name):
        if rdn.tag != 0x31:
            raise DerError("an RDN must be a SET")
        atvs = r.kids(rdn)
        if not atvs:
            r.note("an empty RDN (a SET with no attribute), shown as nothing (how Windows shows it is not confirmed)")
        encodings = [a.whole(data) for a in atvs]
        if encodings != sorted(encodings):
            r.note(f"a non-DER-sorted SET (a multi-valued RDN in encoded order); {WINDOWS_ACCEPTS}")
        for atv in atvs:
            pieces = r.kids(atv)
            if len(pieces) != 2:
                continue  # names.render_name refuses it, and the name is then shown empty
            value = pieces[1]
            kind = _STRING_NAMES.get(value.tag)
            if kind is None:
                continue
            body = value.body(data)
            if value.tag == 0x13 and not _PRINTABLE.issuperset(body):
                odd = sorted({chr(b) for b in body if b not in _PRINTABLE})
                r.note(f"{', '.join(repr(c) for c in odd[:3])} in a PrintableString; {WINDOWS_ACCEPTS}")
            elif value.tag == 0x12 and not set(body) <= set(b"0123456789 "):
                r.note(f"a NumericString that is not digits; {WINDOWS_ACCEPTS}")
            elif any(b > 0x7F for b in body):
                r.note(f"bytes above 0x7F in an {kind}, read as ISO-8859-1")


def _time(r: _Reader, node: Tlv) -> datetime:
    text = node.body(r.data).decode("latin-1")
    if node.tag == 0x17:
        kind, year_digits = "UTCTime", 2
    elif node.tag == 0x18:
        kind, year_digits = "GeneralizedTime", 4
    else:
        raise DerError(f"a time with tag {node.tag:#04x}")
    if not _digits(text[:year_digits + 8]) or len(text) < year_digits + 8:
        raise DerError(f"a malformed {kind} {text[:20]!r}")
    year = int(text[:year_digits])
    if year_digits == 2:
        year += 1900 if year >= 50 else 2000
    rest = text[year_digits:]
    month, day, hour, minute = (int(rest[i:i + 2]) for i in (0, 2, 4, 6))
    rest = rest[8:]
    second = 0
    if _digits(rest[:2]):
        second = int(rest[:2])
        rest = rest[2:]
    else:
        r.note(f"a {kind} without seconds; {WINDOWS_ACCEPTS}")
    if rest[:1] in (".", ",") and kind == "GeneralizedTime":
        digits = rest[1:].split("Z")[0].split("+")[0].split("-")[0]
        if not _digits(digits):
            raise DerError(f"a malformed {kind} {text[:20]!r}")
        rest = rest[1 + len(digits):]
        r.note(f"a {kind} with fractional seconds; {WINDOWS_ACCEPTS}")
    offset = timedelta()
    if rest == "Z":
        pass
    elif len(rest) == 5 and rest[0] in "+-" and _digits(rest[1:]):
        sign = 1 if rest[0] == "+" else -1
        offset = sign * timedelta(hours=int(rest[1:3]), minutes=int(rest[3:5]))
        r.note(f"a {kind} with a time zone offset instead of Z; {WINDOWS_ACCEPTS}")
    else:
        raise DerError(f"a malformed {kind} {text[:20]!r}")
    if kind == "GeneralizedTime" and year < 2050:
        r.note(f"a GeneralizedTime before 2050 (RFC 5280 asks for UTCTime); {WINDOWS_ACCEPTS}")
    end_of_day = hour == 24 and minute == 0 and second == 0  # 24:00:00, the end of the day (ISO 8601)
    if second == 60:
        r.note(f"a leap second in a {kind}, read as :59")
    try:
        moment = datetime(year, month, day, 0 if end_of_day else hour, minute, min(second, 59))
    except ValueError:
        raise DerError(f"an impossible {kind} {text[:20]!r}") from None
    if end_of_day:
        r.note(f"a {kind} at 24:00:00, read as midnight of the next day")
        moment += timedelta(days=1)
    return moment - offset


def _digits(text: str) -> bool:
    return bool(text) and all("0" <= c <= "9" for c in text)


def _unsigned_bits(content: bytes) -> int:
    return int.from_bytes(content.lstrip(b"\0"), "big").bit_length()


def _public_key(r: _Reader, spki: Tlv) -> tuple[str, int]:
    kids = r.kids(spki)
    if len(kids) != 2 or kids[0].tag != 0x30 or kids[1].tag != 0x03:
        raise DerError("a malformed SubjectPublicKeyInfo")
    algorithm, parameters = _algorithm(r, kids[0])
    key = _bit_string(r, kids[1])
    try:
        if algorithm in (RSA, RSA_PSS):
            sequence = read_tlv(key, 0)
            modulus = read_tlv(key, sequence.content, sequence.end)
            return "RSA", _unsigned_bits(modulus.body(key))
        if algorithm == EC:
            curve = oid_text(read_tlv(parameters, 0).body(parameters)) if parameters[:1] == b"\x06" else None
            if curve in _CURVES:
                name, size = _CURVES[curve]
                return f"ECDSA {name}", size
            return "ECDSA", (len(key) - 1) // 2 * 8
        if algorithm == ED25519:
            if parameters:
                r.note(f"Ed25519 key with parameters (RFC 8410 says absent); {WINDOWS_ACCEPTS}")
            return "Ed25519", 256
        if algorithm == ED448:
            return "Ed448", 456
        if algorithm == DSA:
            if not parameters or parameters == b"\x05\x00":
                r.note("a DSA key whose parameters are inherited from the issuer; its size is not in the certificate")
                return "DSA", 0
            params = read_tlv(parameters, 0)
            return "DSA", _unsigned_bits(read_tlv(parameters, params.content, params.end).body(parameters))
    except DerError:
        r.note("a public key that could not be read")
        return "unknown", 0
    return "OID." + algorithm, 0


def _extensions(r: _Reader, wrapper: Tlv) -> list[tuple[str, bool, bytes]]:
    data = r.data
    inner = r.kids(wrapper)
    if len(inner) != 1 or inner[0].tag != 0x30:
        raise DerError("malformed extensions")
    found: list[tuple[str, bool, bytes]] = []
    seen: set[str] = set()
    for extension in r.kids(inner[0]):
        pieces = r.kids(r.expect(extension, 0x30, "an extension"))
        if len(pieces) not in (2, 3) or pieces[0].tag != 0x06 or pieces[-1].tag != 0x04:
            raise DerError("a malformed extension")
        oid = oid_text(pieces[0].body(data))
        critical = False
        if len(pieces) == 3:
            flag = r.expect(pieces[1], 0x01, "an extension's critical flag").body(data)
            critical = flag != b"\x00"
            if flag == b"\x00":
                r.note(f"an extension's critical flag written out as FALSE (a DEFAULT value DER leaves out); "
                       f"{WINDOWS_ACCEPTS}")
            elif flag != b"\xff":
                r.note(f"a BOOLEAN encoded as {flag.hex().upper()}, not FF; {WINDOWS_ACCEPTS}")
        if oid in seen:
            r.note(f"the {_EXTENSION_NAMES.get(oid, oid)} extension appears twice; the first is used")
            continue
        seen.add(oid)
        found.append((oid, critical, pieces[-1].body(data)))
    return found


# Reading the extensions the tool uses. Each returns the value or raises DerError.

def _sequence(value: bytes) -> tuple[Tlv, list[Tlv]]:
    node = read_tlv(value, 0)
    if node.tag != 0x30:
        raise DerError("expected a SEQUENCE")
    found = []
    for child in children(value, node):
        found.append(child)
        if len(found) > MAX_ITEMS:
            raise DerError("too many elements")
    return node, found


def dns_names(value: bytes) -> tuple[str, ...]:
    _, names = _sequence(value)
    return tuple(_text(n.body(value)) for n in names if n.tag == 0x82)


def _text(body: bytes) -> str:
    """An IA5String as cryptography reads one: UTF-8 where the bytes are (a CA's mistake), else ISO-8859-1."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def extended_key_usages(value: bytes) -> tuple[str, ...]:
    _, oids = _sequence(value)
    return tuple(oid_text(o.body(value)) for o in oids if o.tag == 0x06)


def basic_constraints_ca(value: bytes) -> bool:
    _, items = _sequence(value)
    return bool(items) and items[0].tag == 0x01 and items[0].body(value) not in (b"", b"\x00")


def key_usage(value: bytes) -> tuple[str, ...]:
    node = read_tlv(value, 0)
    if node.tag != 0x03 or node.end == node.content:
        raise DerError("KeyUsage is not a BIT STRING")
    bits = node.body(value)[1:]
    set_bits = [i for i in range(min(9, len(bits) * 8)) if bits[i // 8] & (0x80 >> (i % 8))]
    agreement = 4 in set_bits
    return tuple(KEY_USAGE_BITS[i] for i in set_bits if i < 7 or agreement)


def subject_key_id(value: bytes) -> str:
    node = read_tlv(value, 0)
    if node.tag != 0x04:
        raise DerError("SubjectKeyIdentifier is not an OCTET STRING")
    return node.body(value).hex().upper()


def authority_key_id(value: bytes) -> str | None:
    _, items = _sequence(value)
    return next((i.body(value).hex().upper() for i in items if i.tag == 0x80), None)


def ca_issuer_urls(value: bytes) -> tuple[str, ...]:
    _, descriptions = _sequence(value)
    urls = []
    for description in descriptions:
        parts = list(children(value, description))
        if (len(parts) == 2 and parts[0].tag == 0x06 and oid_text(parts[0].body(value)) == _CA_ISSUERS
                and parts[1].tag == 0x86):
            urls.append(_text(parts[1].body(value)))
    return tuple(urls)


def extension_name(oid: str) -> str:
    return _EXTENSION_NAMES.get(oid, oid)


_SIGNED_DATA = "1.2.840.113549.1.7.2"


def pkcs7_certificates(der: bytes) -> list[bytes] | None:
    """The certificates of a PKCS#7 SignedData (a .p7b), each as its bytes: for bundles the strict parser refuses
    because of one quirky certificate. None when the bytes are not a SignedData; DerError when it is broken."""
    if len(der) > 50 * MAX_CERTIFICATE:
        raise DerError("too large for a certificate bundle")
    r = _Reader(der)
    try:  # ContentInfo { contentType signedData, ... }: anything else is not a bundle
        outer = r.tlv(0, len(der))
        kind = r.tlv(outer.content, outer.end) if outer.tag == 0x30 else None
        if kind is None or kind.tag != 0x06 or oid_text(kind.body(der)) != _SIGNED_DATA:
            return None
    except DerError:
        return None
    kids = r.kids(outer)
    if len(kids) != 2 or kids[1].tag != 0xA0:
        raise DerError("a ContentInfo without its [0] content")
    content = r.kids(kids[1])
    if len(content) != 1 or content[0].tag != 0x30:
        raise DerError("a SignedData that is not one SEQUENCE")
    found = []
    for field in r.kids(content[0]):
        if field.tag == 0xA0:  # [0] IMPLICIT SET OF CertificateChoices
            found += [c.whole(der) for c in r.kids(field) if c.tag == 0x30]
    return found
