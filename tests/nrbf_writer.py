"""A tiny MS-NRBF (BinaryFormatter) writer for tests: fixtures are generated, never copied.

It writes the records .NET writes for an ``ISerializable`` object: a header, BinaryLibrary before a class's first
use, ClassWithMembersAndTypes (SystemClassWithMembersAndTypes for mscorlib types), ClassWithId for a class met
before, value types (enums) inline, strings inline as BinaryObjectString, and arrays and reference types as a
MemberReference whose object follows the root (ArraySinglePrimitive, ArraySingleObject, BinaryArray), nulls in
arrays run-length coded with ObjectNullMultiple256; then MessageEnd.

Values: None, bool, int (Int32), str, bytes (byte[]), list (object[]), ``Obj`` (a class; ``inline`` for a value
type), ``Typed`` (a boxed primitive in an object member: MemberPrimitiveTyped).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

EXCHANGE_LIBRARY = "Microsoft.Exchange.Management, Version=15.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35"
CERTIFICATE_CLASS = "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate"


@dataclass
class Obj:
    name: str
    members: dict[str, Any] = field(default_factory=dict)
    library: str | None = EXCHANGE_LIBRARY  # None: a system (mscorlib) class
    inline: bool = False  # a value type, written where it is used


@dataclass
class Typed:
    kind: int  # PrimitiveTypeEnumeration
    value: Any


def enum(name: str, number: int) -> Obj:
    return Obj(name, {"value__": number}, inline=True)


def lps(text: str) -> bytes:
    data = text.encode("utf-8")
    length, out = len(data), bytearray()
    while True:
        part = length & 0x7F
        length >>= 7
        out.append(part | (0x80 if length else 0))
        if not length:
            return bytes(out) + data


_PRIMITIVE_FORMATS = {1: "<?", 2: "<B", 6: "<d", 7: "<h", 8: "<i", 9: "<q", 14: "<H", 15: "<I", 16: "<Q"}


class Writer:
    def __init__(self, *, binary_array: bool = False) -> None:
        self.out = bytearray()
        self.next_id = 1
        self.libraries: dict[str, int] = {}
        self.classes: dict[tuple[Any, ...], int] = {}
        self.pending: list[tuple[int, Any]] = []
        self.binary_array = binary_array  # object arrays as BinaryArray rather than ArraySingleObject

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def library(self, name: str) -> int:
        if name not in self.libraries:
            library_id = self.libraries[name] = 1000 + len(self.libraries)
            self.out += b"\x0c" + struct.pack("<i", library_id) + lps(name)
        return self.libraries[name]

    def member_type(self, value: Any) -> tuple[int, bytes]:
        if isinstance(value, bool):
            return 0, b"\x01"
        if isinstance(value, int):
            return 0, b"\x08"
        if isinstance(value, str):
            return 1, b""
        if isinstance(value, bytes):
            return 7, b"\x02"
        if isinstance(value, list):
            return 5, b""
        if isinstance(value, Obj):
            if value.library is None:
                return 3, lps(value.name)
            return 4, lps(value.name) + struct.pack("<i", self.libraries.get(value.library, 0))
        return 2, b""  # None, Typed: Object

    def write_class(self, value: Obj, object_id: int) -> None:
        for member in value.members.values():  # libraries of member classes are declared before this record
            if isinstance(member, Obj) and member.library is not None:
                self.library(member.library)
        library_id = self.library(value.library) if value.library is not None else None
        types = [self.member_type(m) for m in value.members.values()]
        shape = (value.name, value.library, tuple(value.members), tuple(types))
        if shape in self.classes:
            self.out += b"\x01" + struct.pack("<ii", object_id, self.classes[shape])
        else:
            self.classes[shape] = object_id
            self.out += (b"\x05" if library_id is not None else b"\x04") + struct.pack("<i", object_id)
            self.out += lps(value.name) + struct.pack("<i", len(value.members))
            self.out += b"".join(lps(name) for name in value.members)
            self.out += bytes(kind for kind, _ in types) + b"".join(info for _, info in types)
            if library_id is not None:
                self.out += struct.pack("<i", library_id)
        for member in value.members.values():
            self.write_member(member)

    def write_member(self, value: Any) -> None:
        if isinstance(value, bool):
            self.out += struct.pack("<?", value)
        elif isinstance(value, int):
            self.out += struct.pack("<i", value)
        else:
            self.write_value(value)

    def write_value(self, value: Any) -> None:
        """A value where a record is expected."""
        if value is None:
            self.out += b"\x0a"
        elif isinstance(value, Typed):
            self.out += b"\x08" + bytes([value.kind]) + struct.pack(_PRIMITIVE_FORMATS[value.kind], value.value)
        elif isinstance(value, str):
            self.out += b"\x06" + struct.pack("<i", self.new_id()) + lps(value)
        elif isinstance(value, Obj) and value.inline:
            self.write_class(value, self.new_id())
        else:  # a reference type: written after the root
            object_id = self.new_id()
            self.pending.append((object_id, value))
            self.out += b"\x09" + struct.pack("<i", object_id)

    def write_object(self, object_id: int, value: Any) -> None:
        if isinstance(value, bytes):
            self.out += b"\x0f" + struct.pack("<ii", object_id, len(value)) + b"\x02" + value
        elif isinstance(value, list):
            if self.binary_array:
                self.out += b"\x07" + struct.pack("<i", object_id) + b"\x00" + struct.pack("<ii", 1, len(value)) + b"\x02"
            else:
                self.out += b"\x10" + struct.pack("<ii", object_id, len(value))
            nulls = 0
            for item in value:
                if item is None:
                    nulls += 1
                    if nulls == 255:
                        self.out += b"\x0d" + bytes([nulls])
                        nulls = 0
                    continue
                self.write_nulls(nulls)
                nulls = 0
                self.write_value(item)
            self.write_nulls(nulls)
        else:
            self.write_class(value, object_id)

    def write_nulls(self, count: int) -> None:
        if count == 1:
            self.out += b"\x0a"
        elif count > 1:
            self.out += b"\x0d" + bytes([count])

    def stream(self, root: Obj) -> bytes:
        root_id = self.new_id()
        self.out += b"\x00" + struct.pack("<iiii", root_id, -1, 1, 0)
        self.write_class(root, root_id)
        while self.pending:
            object_id, value = self.pending.pop(0)
            self.write_object(object_id, value)
        self.out += b"\x0b"
        return bytes(self.out)


def encode(root: Obj, *, binary_array: bool = False) -> bytes:
    return Writer(binary_array=binary_array).stream(root)


def exchange_certificate(cert_data: bytes, *, status: int = 1, root_ca_type: int = 3, services: int = 27,
                         identity: str | None = None, self_signed: bool = False) -> bytes:
    """The SerializationData of an ExchangeCertificate, with the members GetObjectData writes, in its order."""
    members: dict[str, Any] = {
        "CertData": cert_data,
        "SelfSigned": self_signed,
        "Status": enum("Microsoft.Exchange.Management.SystemConfigurationTasks.CertificateStatus", status),
        "RootCAType": enum("Microsoft.Exchange.Management.SystemConfigurationTasks.CertificateAuthorityType",
                           root_ca_type),
        "Services": enum("Microsoft.Exchange.Management.SystemConfigurationTasks.AllowedServices", services),
        "IISServices": Obj("System.Collections.Generic.List`1[[Microsoft.Exchange.Management.Metabase.IisService, "
                           + EXCHANGE_LIBRARY + "]]", {"_items": [], "_size": 0, "_version": 0}, library=None),
        "PrivateKeyExportable": False,
    }
    if identity is not None:
        members["Identity"] = identity
    return encode(Obj(CERTIFICATE_CLASS, members))


def serialized_cert(der: bytes) -> bytes:
    """X509ContentType.SerializedCert: property elements (id, 1, length, value); the certificate is element 32."""
    friendly = "hybrid".encode("utf-16-le") + b"\0\0"
    return (struct.pack("<III", 11, 1, len(friendly)) + friendly
            + struct.pack("<III", 32, 1, len(der)) + der)
