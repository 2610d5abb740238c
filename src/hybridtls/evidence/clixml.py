"""``Export-Clixml`` output: each top-level ``<Obj>`` becomes a record with the labels the text forms have, so the
record kinds read it as they read Format-List or JSON. HealthChecker's XML, one object of nested objects, gives
instead the certificates, receive connectors and transport service nested in it (``healthchecker``).

The XML is parsed by defusedxml's hardened expat parser: a DTD, entity declarations and external references are
refused before anything is expanded, nesting is limited, and the text is fed a piece at a time, each object turned
into a record as soon as it closes (a large export is never held as a tree). The CLIXML elements are walked
directly (``<TN>``/``<TNRef>`` type names, ``<Props>`` and ``<MS>`` members, ``<Ref>`` back-references, ``<LST>``,
``<IE>``, ``<DCT>`` collections, ``<ToString>``); ``bench/bench_clixml.py`` measures this against psrpcore's and
pypsrp's deserializers.

Exchange objects carry a ``SerializationData`` member, a BinaryFormatter stream (``nrbf``). For
``Get-ExchangeCertificate`` it holds RootCAType, Status and Services, which are not XML properties in a real
export: they are added to the record (cited at the line of SerializationData) where the XML does not have them.
``RawData`` (or else the certificate in the stream's CertData) is the exact certificate: it is read as a
certificate file too, so its chain is judged and the record joined to it.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterator
from typing import Any

from hybridtls.errors import EvidenceError
from hybridtls.evidence import healthchecker
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader, Record, pieces
from hybridtls.evidence.kinds.certificate import ROOT_CA_NUMBERS, STATUS_NUMBERS
from hybridtls.evidence.nrbf import NrbfClass, NrbfError, decode, enum_number
from hybridtls.evidence.raw import RawField, RawRecord, RawValue, raw_field
from hybridtls.model import Notice, Source

MAX_DEPTH = 64  # Export-Clixml writes at most -Depth levels (default 2); HealthChecker nests about 10
MAX_VALUE_CHARS = 16 * 1024 * 1024  # one element's text: a base64 certificate is a few kilobytes
MAX_ATTRIBUTE_CHARS = 4096  # CliXML's attributes are N (a property name), RefId and Version
MAX_DIGITS = 40
_INTEGERS = frozenset({"I16", "I32", "I64", "U16", "U32", "U64", "By", "SB"})
_TEXTS = frozenset({"S", "Version", "URI", "G", "XD", "SBK", "Db", "Sg", "D", "DT", "TS", "SS", "ToString"})
_COLLECTIONS = frozenset({"LST", "IE", "STK", "QUE"})
_NAMED = ("Name", "Address", "Domain", "DisplayName", "FriendlyName", "Value")
_EMPTY = RawValue("")
_GENERIC_TYPE = re.compile(r"(?:System|Microsoft)\.[\w.]+`\d+\[.*\]\Z", re.DOTALL)
_CERTIFICATE_MEMBERS = ("RootCAType", "Status", "Services", "Identity")
# The stream names each enum's type, so its number is read by that type's order, as Format-List prints its name.
_ENUM_NAMES: dict[str, dict[int, Any]] = {"CertificateAuthorityType": ROOT_CA_NUMBERS,
                                          "CertificateStatus": STATUS_NUMBERS}
_CERTIFICATE_ELEMENT = 32  # in X509ContentType.SerializedCert: CERT_CERT_PROP_ID, the encoded certificate
_FORBIDDEN = {"DTDForbidden": "a DTD", "EntitiesForbidden": "an entity declaration",
              "ExternalReferenceForbidden": "an external reference", "NotSupportedError": "an unsupported construct"}
_EXPECTED = "expected Export-Clixml output (<Objs> of <Obj>)"


class _Node:
    __slots__ = ("tag", "attrib", "children", "text", "line")

    def __init__(self, tag: str, attrib: dict[str, str], line: int) -> None:
        self.tag = tag
        self.attrib = attrib
        self.children: list[_Node] = []
        self.text: list[str] = []
        self.line = line

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    @property
    def value(self) -> str:
        return "".join(self.text)


class _Builder:
    """The parser's target: builds the nodes of one top-level ``<Obj>`` at a time and hands it on when it closes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parser: Any = None  # the XMLParser, for the line of each element
        self.stack: list[_Node] = []
        self.root: str | None = None
        self.done: list[_Node] = []  # top-level objects closed since the last look
        self.other = 0  # top-level values that are not objects (strings, numbers)
        self.chars = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = tag.rpartition("}")[2]  # the namespace, when there is one
        line = self.parser.parser.CurrentLineNumber
        for name, value in attrib.items():
            if len(value) > MAX_ATTRIBUTE_CHARS:
                raise EvidenceError(f"an attribute {name[:40]!r} of {len(value):,} characters, more than CliXML "
                                    "writes; " + _EXPECTED, path=self.path, line=line)
        if self.root is None:
            if tag != "Objs":
                raise EvidenceError(f"XML whose root is <{tag}>, not <Objs>; " + _EXPECTED, path=self.path, line=line)
            self.root = tag
            return
        if len(self.stack) >= MAX_DEPTH:
            raise EvidenceError(f"XML nested more than {MAX_DEPTH} levels deep; " + _EXPECTED, path=self.path,
                                line=line)
        node = _Node(tag, attrib, line)
        if self.stack:
            self.stack[-1].children.append(node)
        self.stack.append(node)
        self.chars = 0

    def end(self, tag: str) -> None:
        if not self.stack:
            return  # </Objs>
        node = self.stack.pop()
        if not self.stack:
            if node.tag == "Obj":
                self.done.append(node)
            else:
                self.other += 1

    def data(self, text: str) -> None:
        if self.stack:
            self.chars += len(text)
            if self.chars > MAX_VALUE_CHARS:
                raise EvidenceError(f"an element of more than {MAX_VALUE_CHARS:,} characters; " + _EXPECTED,
                                    path=self.path, line=self.stack[-1].line)
            self.stack[-1].text.append(text)

    def close(self) -> None:
        return None


def iter_clixml(text: str, path: str) -> Iterator[Record | _DerFound]:
    """The records of a CliXML text, each as soon as its object closes; EvidenceError for XML that is not CliXML,
    hostile (a DTD, entities, external references) or malformed."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    builder = _Builder(path)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    walker = _Walker(path)
    try:
        for piece in pieces(text, size=1 << 16):
            parser.feed(piece)
            yield from walker.records(builder)
        parser.close()
        yield from walker.records(builder)
    except DefusedXmlException as exc:
        line = parser.parser.CurrentLineNumber
        what = _FORBIDDEN.get(type(exc).__name__, "a construct")
        raise EvidenceError(f"XML with {what}, which CliXML never has; refused unread", path=path, line=line,
                            hint="Export-Clixml writes no DTD or entities: export the objects again") from None
    except ParseError as exc:
        line, column = exc.position
        raise EvidenceError(f"not well-formed XML ({str(exc).split(':')[0]}, column {column + 1}); " + _EXPECTED,
                            path=path, line=line,
                            hint="the file may be cut short; export it again" if "no element" in str(exc)
                            or "unclosed" in str(exc) else None) from None
    except RecursionError:
        raise EvidenceError("XML nested too deeply; " + _EXPECTED, path=path) from None
    if builder.root is None:
        raise EvidenceError("no XML element found; " + _EXPECTED, path=path)
    if not walker.count:
        message = "CliXML with no objects" + (f" ({builder.other:,} plain values)" if builder.other else "")
        raise EvidenceError(message + "; " + _EXPECTED, path=path)


class _Walker:
    """Turns closed top-level objects into records, keeping the type names and referenced values of the file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.types: dict[str, tuple[str, ...]] = {}  # TN RefId -> type names
        self.refs: dict[str, RawValue] = {}  # Obj RefId -> its value, for <Ref>
        self.count = 0

    def records(self, builder: _Builder) -> Iterator[Record | _DerFound]:
        done, builder.done = builder.done, []
        for node in done:
            self.count += 1
            hc = healthchecker.server_object(node)
            if hc is None:
                yield from self.record(node)
                continue
            # the whole object is walked first, in file order, so that its type names and references are known
            self.record_fields(node)
            yield from healthchecker.records(self, node, hc)

    def type_names(self, node: _Node) -> tuple[str, ...]:
        found = node.child("TN")
        if found is not None:
            names = tuple(t.value.strip() for t in found.children if t.tag == "T")
            if "RefId" in found.attrib:
                self.types[found.attrib["RefId"]] = names
            return names
        reference = node.child("TNRef")
        if reference is not None:
            return self.types.get(reference.attrib.get("RefId", ""), ())
        return ()

    def record_fields(self, node: _Node) -> list[RawField]:
        fields: list[RawField] = []
        for group in node.children:
            if group.tag in ("Props", "MS"):
                fields.extend(raw_field(member.attrib["N"], self.value(member), member.line)
                              for member in group.children if "N" in member.attrib)
        self.remember(node, RawValue(self.text_of(node, fields)))
        return fields

    def record(self, node: _Node, extra: tuple[RawField, ...] = ()) -> Iterator[Record | _DerFound]:
        """The record of an object (top-level, or nested in HealthChecker's); ``extra`` are properties it is given
        where it has none of the same name (HealthChecker's server name)."""
        names = self.type_names(node)
        fields = self.record_fields(node)
        present = {f.key for f in fields}
        fields.extend(f for f in extra if f.key not in present)
        source = Source(path=self.path, line=node.line)
        notices: list[Notice] = []
        der: _DerFound | None = None
        # only an ExchangeCertificate's: another Exchange type's SerializationData holds nothing read here, and the
        # RawData of a store listing's certificates (Get-ChildItem Cert:) is not an Exchange certificate
        if any(name.rsplit(".", 1)[-1] == "ExchangeCertificate" for name in names):
            serialized = next((f for f in fields if f.key == "serializationdata"), None)
            if serialized is not None and serialized.value.text:
                added, der = self.serialized(serialized, {f.key for f in fields}, notices)
                fields.extend(added)
            raw_data = next((f for f in fields if f.key == "rawdata"), None)
            if raw_data is not None and raw_data.value.text and raw_data.value.items is None:
                der = self.certificate(raw_data, notices) or der  # RawData is the certificate itself: it comes first
        if fields:
            yield RawRecord(source, tuple(fields), type_hint=names[0] if names else None)
        yield from notices
        if der is not None:
            yield der

    def remember(self, node: _Node, value: RawValue) -> None:
        ref = node.attrib.get("RefId")
        if ref is not None:
            self.refs[ref] = value

    def value(self, node: _Node) -> RawValue:
        tag = node.tag
        if tag in _TEXTS:
            text = node.value
            if tag == "S" and "`" in text and _GENERIC_TYPE.match(text):
                return RawValue(text, shallow=True)  # a collection past -Depth, written as its type's name
            return RawValue(text)
        if tag == "B":
            return RawValue("True" if node.value.strip().casefold() == "true" else "False")
        if tag in _INTEGERS:
            digits = node.value.strip()
            number = int(digits) if len(digits) <= MAX_DIGITS and re.fullmatch(r"-?\d+", digits) else None
            return RawValue(digits, number=number)
        if tag == "BA":
            return RawValue("".join(node.value.split()))
        if tag == "C":  # a Char, as its number
            digits = node.value.strip()
            return RawValue(chr(int(digits)) if digits.isdigit() and int(digits) < 0x110000 else digits)
        if tag == "Ref":
            return self.refs.get(node.attrib.get("RefId", ""), _EMPTY)
        if tag == "Obj":
            return self.object_value(node)
        return _EMPTY  # Nil, and elements CLIXML does not define

    def object_value(self, node: _Node) -> RawValue:
        """A nested object: its items (a collection), or its ToString (an enum, a name), or a naming property."""
        self.type_names(node)
        found = None
        for group in node.children:
            if group.tag in _COLLECTIONS:
                items = tuple(self.value(item).text for item in group.children)
                found = RawValue("{" + ", ".join(items) + "}", items=items)
            elif group.tag == "DCT":
                items = tuple(f"{self.entry(e, 'Key')}={self.entry(e, 'Value')}" for e in group.children)
                found = RawValue("{" + ", ".join(items) + "}", items=items)
        if found is None:
            fields = [raw_field(m.attrib["N"], self.value(m), m.line) for g in node.children
                      if g.tag in ("Props", "MS") for m in g.children if "N" in m.attrib]
            found = RawValue(self.text_of(node, fields))
        self.remember(node, found)
        return found

    def entry(self, entry: _Node, name: str) -> str:
        member = next((c for c in entry.children if c.attrib.get("N") == name), None)
        return self.value(member).text if member is not None else ""

    def text_of(self, node: _Node, fields: list[RawField]) -> str:
        shown = node.child("ToString")
        if shown is not None:
            return shown.value
        for label in _NAMED:
            for found in fields:
                if found.label == label and found.value.items is None:
                    return found.value.text
        primitive = next((c for c in node.children if c.tag in _TEXTS or c.tag in _INTEGERS or c.tag == "B"), None)
        return self.value(primitive).text if primitive is not None else ""

    def serialized(self, field: RawField, present: set[str],
                   notices: list[Notice]) -> tuple[list[RawField], _DerFound | None]:
        """RootCAType, Status, Services and Identity from an ExchangeCertificate's SerializationData (those the
        XML does not have); a note when the stream cannot be read."""
        where = Source(path=self.path, line=field.line)
        try:
            stream = decode(base64.b64decode(field.value.text, validate=True))
        except (binascii.Error, ValueError) as exc:  # NrbfError is a ValueError
            notices.append(Notice(source=where, message=f"SerializationData could not be read ({exc}); RootCAType, "
                                  "Status and Services are taken only from the XML properties, if any",
                                  hint="Get-ExchangeCertificate | Format-List shows them as text"))
            return [], None
        root = stream.root
        if not isinstance(root, NrbfClass) or not root.name.endswith(".ExchangeCertificate"):
            return [], None  # another Exchange type's data: nothing read from it yet
        found: list[RawField] = []
        for name in _CERTIFICATE_MEMBERS:
            if name.casefold() in present or name not in root.members:
                continue
            try:
                member = stream.resolve(root.members[name])
            except NrbfError:
                continue
            number = enum_number(member)
            if number is not None:
                known = (_ENUM_NAMES.get(member.name.rsplit(".", 1)[-1], {}).get(number)
                         if isinstance(member, NrbfClass) else None)
                value = RawValue(known.value) if known is not None else RawValue(str(number), number=number)
                found.append(raw_field(name, value, field.line))
            elif isinstance(member, str):
                found.append(raw_field(name, RawValue(member), field.line))
        try:
            cert_data = stream.resolve(root.members.get("CertData"))
        except NrbfError:
            cert_data = None
        der = serialized_certificate(cert_data) if isinstance(cert_data, bytes) else None
        return found, _DerFound(der, field.line) if der is not None else None

    def certificate(self, raw_data: RawField, notices: list[Notice]) -> _DerFound | None:
        """RawData, the exact certificate; None (and a note) when it is not base64."""
        try:
            return _DerFound(base64.b64decode(raw_data.value.text, validate=True), raw_data.line)
        except (binascii.Error, ValueError):
            notices.append(Notice(source=Source(path=self.path, line=raw_data.line),
                                  message="RawData is not base64; the certificate itself is not read"))
            return None


class _DerFound:
    """A certificate found inside an object, read into a CertificateFile by the reader (outside the walk)."""

    __slots__ = ("der", "line")

    def __init__(self, der: bytes, line: int) -> None:
        self.der = der
        self.line = line


def serialized_certificate(data: bytes) -> bytes | None:
    """The encoded certificate in an X509ContentType.SerializedCert blob (a serialized certificate store element,
    MS-OSHARED 2.3.2.5: property entries of id, encoding type, length and value, the certificate's id being 0x20).
    None when there is none or the blob is malformed."""
    at = 0
    while at + 12 <= len(data):
        element, _, length = struct.unpack_from("<III", data, at)
        at += 12
        if length > len(data) - at:
            return None
        if element == _CERTIFICATE_ELEMENT:
            return data[at:at + length]
        at += length
    return None


class CliXmlReader(EvidenceReader):
    name = "CliXML (Export-Clixml)"

    def recognises(self, file: EvidenceFile) -> bool:
        return file.head(64).startswith(("<Objs", "<?xml", "<!DOCTYPE"))

    def read(self, file: EvidenceFile) -> Iterator[Record]:
        for record in iter_clixml(file.text, file.display):
            if isinstance(record, _DerFound):
                yield from _certificate_file(record, file.display)
            else:
                yield record


def _certificate_file(found: _DerFound, path: str) -> Iterator[Record]:
    from hybridtls.evidence.certificates import read_certificate_file

    try:
        certificates = read_certificate_file(found.der, path)
    except EvidenceError as exc:
        yield Notice(source=Source(path=path, line=found.line),
                     message=f"the certificate in the object could not be read ({exc.message}); its properties "
                             "are read as the XML gives them")
        return
    for certificate in certificates[:1]:
        from dataclasses import replace

        yield replace(certificate, source=Source(path=path, line=found.line),
                      label=f"{path}:{found.line}, the certificate's RawData")
