"""Distinguished names rendered exactly as Windows renders them for X509Certificate2.Subject / .Issuer.

CertNameToStr with CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG: RDNs in reverse order joined by ", ",
multi-valued RDNs joined by " + " in encoded order, Windows' short key names (S=, E=, SERIALNUMBER=, DC=, ...),
``OID.x.y.z=`` for the rest, quoting when needed, ``#HEX`` for values that are not strings.
Exchange's TlsCertificateName is built from these strings, so one character of difference matters.
"""

from __future__ import annotations

from hybridtls.pki.der import DerError, Tlv, children, oid_text, read_tlv

WINDOWS_KEYS = {
    "2.5.4.3": "CN", "2.5.4.4": "SN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "S",
    "2.5.4.9": "STREET", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.12": "T", "2.5.4.13": "Description",
    "2.5.4.17": "PostalCode", "2.5.4.18": "POBox", "2.5.4.20": "Phone", "2.5.4.24": "X21Address",
    "2.5.4.42": "G", "2.5.4.43": "I", "2.5.4.46": "dnQualifier", "1.2.840.113549.1.9.1": "E",
    "0.9.2342.19200300.100.1.25": "DC", "2.23.133.2.1": "TPMManufacturer", "2.23.133.2.2": "TPMModel",
    "2.23.133.2.3": "TPMVersion",
}

_UTF8, _BMP, _T61, _UNIVERSAL = 0x0C, 0x1E, 0x14, 0x1C
_EIGHT_BIT = {0x12, 0x13, 0x16, 0x15, 0x19, 0x1A, 0x1B}  # Numeric, Printable, IA5, Videotex, Graphic, Visible, General
_OCTET_STRING = 0x04
_QUOTE_ANYWHERE = frozenset(',+="\n<>#;')
_QUOTE_AT_EDGE = frozenset(" \t\n\v\f\r")


def render_name(der: bytes) -> str:
    """The Windows string for a DER-encoded Name. Raises DerError when the encoding is broken."""
    name = read_tlv(der, 0)
    if name.tag != 0x30 or name.end != len(der):
        raise DerError("a Name must be one SEQUENCE")
    rdns = []
    for rdn in children(der, name):
        if rdn.tag != 0x31:
            raise DerError("an RDN must be a SET")
        parts = []
        for atv in children(der, rdn):
            if atv.tag != 0x30:
                raise DerError("an attribute must be a SEQUENCE")
            pieces = list(children(der, atv))
            if len(pieces) != 2 or pieces[0].tag != 0x06:
                raise DerError("an attribute must hold a type and a value")
            oid = oid_text(pieces[0].body(der))
            key = WINDOWS_KEYS.get(oid, "OID." + oid)
            parts.append(f"{key}={_render_value(der, pieces[1])}")
        if parts:  # an empty RDN (a SET with no attribute) adds nothing, not an empty ", " piece
            rdns.append(" + ".join(parts))
    return ", ".join(reversed(rdns))


def attribute_texts(der: bytes, oid: str) -> tuple[str, ...]:
    """The text of each attribute of one type in a DER Name (e.g. every CN), unquoted; values that are not
    strings are left out. Raises DerError when the encoding is broken."""
    name = read_tlv(der, 0)
    found = []
    for rdn in children(der, name):
        for atv in children(der, rdn):
            pieces = list(children(der, atv))
            if len(pieces) == 2 and pieces[0].tag == 0x06 and oid_text(pieces[0].body(der)) == oid:
                text = _text(der, pieces[1])
                if text is not None:
                    found.append(text)
    return tuple(found)


def _text(der: bytes, value: Tlv) -> str | None:
    body = value.body(der)
    if value.tag == _UTF8:
        return body.decode("utf-8", errors="replace").rstrip("\0")
    if value.tag == _BMP:
        return body.decode("utf-16-be", errors="replace").rstrip("\0")
    if value.tag == _UNIVERSAL:
        return body.decode("utf-32-be", errors="replace").rstrip("\0")
    if value.tag == _T61:
        try:
            return body.decode("utf-8").rstrip("\0")
        except UnicodeDecodeError:
            return body.decode("latin-1").rstrip("\0")
    if value.tag in _EIGHT_BIT:
        return body.decode("latin-1").rstrip("\0")
    return None


def _render_value(der: bytes, value: Tlv) -> str:
    text = _text(der, value)
    if text is not None:
        return _quote(text)
    if value.tag == _OCTET_STRING:
        return "#" + value.body(der).hex().upper()
    return "#" + value.whole(der).hex().upper()


def _quote(text: str) -> str:
    if not text or text[0] in _QUOTE_AT_EDGE or text[-1] in _QUOTE_AT_EDGE or not _QUOTE_ANYWHERE.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


# What Go's crypto/x509 renders (pkix.Name.String()), the form blackbox_exporter puts in its subject and issuer
# labels: the nine attributes Go parses into fields, in Go's own order (C, ST, L, STREET, POSTALCODE, O, OU, CN,
# SERIALNUMBER; several values of one kind as one multi-valued RDN; only the last CN and SERIALNUMBER), the rest
# before them in encoded order; the whole reversed and joined by ","; other types as ``OID=#`` and the hex of the
# value re-encoded as Go would (PrintableString when it can, else UTF8String).
_GO_FIELDS = (("2.5.4.6", "C"), ("2.5.4.8", "ST"), ("2.5.4.7", "L"), ("2.5.4.9", "STREET"), ("2.5.4.17", "POSTALCODE"),
              ("2.5.4.10", "O"), ("2.5.4.11", "OU"), ("2.5.4.3", "CN"), ("2.5.4.5", "SERIALNUMBER"))
_GO_SINGLE = frozenset({"2.5.4.3", "2.5.4.5"})  # Go keeps one CommonName and one SerialNumber: the last read
_GO_ESCAPE = frozenset(',+"\\<>;')
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def render_name_go(der: bytes) -> str:
    """The string Go's ``pkix.Name.String()`` gives for a DER-encoded Name (blackbox_exporter's subject and issuer
    labels). Raises DerError when the encoding is broken."""
    fields: dict[str, list[str]] = {oid: [] for oid, _ in _GO_FIELDS}
    others: list[str] = []
    name = read_tlv(der, 0)
    if name.tag != 0x30 or name.end != len(der):
        raise DerError("a Name must be one SEQUENCE")
    for rdn in children(der, name):
        for atv in children(der, rdn):
            pieces = list(children(der, atv))
            if len(pieces) != 2 or pieces[0].tag != 0x06:
                raise DerError("an attribute must hold a type and a value")
            oid = oid_text(pieces[0].body(der))
            text = _text(der, pieces[1])
            if oid in fields and text is not None:
                fields[oid][:] = [text] if oid in _GO_SINGLE else [*fields[oid], text]
            elif text is not None:
                others.append(f"{oid}=#{_go_string_der(text).hex()}")
            else:
                others.append(f"{oid}=#{pieces[1].whole(der).hex()}")
    ordered = [*others, *("+".join(f"{key}={_go_escape(v)}" for v in fields[oid])
                          for oid, key in _GO_FIELDS if fields[oid])]
    return ",".join(reversed(ordered))


def _go_escape(text: str) -> str:
    size = len(text.encode("utf-8"))
    out, offset = [], 0
    for char in text:
        if char in _GO_ESCAPE or (char == " " and offset in (0, size - 1)) or (char == "#" and offset == 0):
            out.append("\\")
        out.append(char)
        offset += len(char.encode("utf-8"))
    return "".join(out)


def _go_string_der(text: str) -> bytes:
    body = text.encode("utf-8")
    tag = 0x13 if all(c in _PRINTABLE for c in text) else _UTF8
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body
