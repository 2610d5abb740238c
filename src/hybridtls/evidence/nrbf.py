"""A small, bounded reader of .NET BinaryFormatter streams (MS-NRBF), for the blobs Exchange puts in CliXML.

Exchange's remote PowerShell adds a ``SerializationData`` member to the objects it sends: the object's
``ISerializable`` data as a BinaryFormatter stream. In a ``Get-ExchangeCertificate`` export, ``RootCAType``,
``Status`` and ``Services`` are only there (the members ``ExchangeCertificate.GetObjectData`` writes: CertData,
SelfSigned, Status, RootCAType, Services, IISServices, PrivateKeyExportable and, when set, Identity).

This reads the records of the published format (MS-NRBF 2.1-2.7): it builds plain values, never a .NET type, and
never runs anything. Bounded: the stream's size, the number of records, the length of strings and arrays and the
nesting of inline values are limited; a record type it does not read (remoting method calls, classes written
without their member types) or a stream that ends early is refused with ``NrbfError``, naming the offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Union

MAX_STREAM_BYTES = 4 * 1024 * 1024  # an ExchangeCertificate's blob is a few kilobytes (mostly the certificate)
MAX_RECORDS = 10_000
MAX_DEPTH = 32  # value types written inline, within each other
MAX_MEMBERS = 1_000  # members of one class


class NrbfError(ValueError):
    """A stream this reader cannot read: what, and at which byte."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A member that names another object of the stream by its id (MemberReference)."""

    id: int


@dataclass(slots=True)
class NrbfClass:
    """An object of a class: its type name, its library (assembly) and its members in stream order."""

    id: int
    name: str
    library: str | None
    members: dict[str, Value] = field(default_factory=dict)


@dataclass(slots=True)
class NrbfArray:
    id: int
    items: list[Value]


Value = Union[None, bool, int, float, str, bytes, Reference, NrbfClass, NrbfArray]  # noqa: UP007 - runtime alias


@dataclass(frozen=True, slots=True)
class Stream:
    """A decoded stream: its root object and every object by id (to follow a Reference)."""

    root: Value
    objects: dict[int, Value]

    def resolve(self, value: Value) -> Value:
        """The object a Reference names (the value itself otherwise); an unknown id is an error."""
        if isinstance(value, Reference):
            if value.id not in self.objects:
                raise NrbfError(f"a reference to object {value.id}, which the stream does not hold")
            return self.objects[value.id]
        return value


# BinaryTypeEnumeration (MS-NRBF 2.1.2.2)
_PRIMITIVE, _STRING, _OBJECT, _SYSTEM_CLASS, _CLASS, _OBJECT_ARRAY, _STRING_ARRAY, _PRIMITIVE_ARRAY = range(8)
# PrimitiveTypeEnumeration (2.1.2.3): fixed-size ones as struct formats
_FIXED = {1: "<?", 2: "<B", 6: "<d", 7: "<h", 8: "<i", 9: "<q", 10: "<b", 11: "<f", 12: "<q", 13: "<q", 14: "<H",
          15: "<I", 16: "<Q"}
_CHAR, _DECIMAL, _NULL, _PRIMITIVE_STRING = 3, 5, 17, 18
_INT32 = struct.Struct("<i")
_RECORD_NAMES = ("SerializedStreamHeader", "ClassWithId", "SystemClassWithMembers", "ClassWithMembers",
                 "SystemClassWithMembersAndTypes", "ClassWithMembersAndTypes", "BinaryObjectString", "BinaryArray",
                 "MemberPrimitiveTyped", "MemberReference", "ObjectNull", "MessageEnd", "BinaryLibrary",
                 "ObjectNullMultiple256", "ObjectNullMultiple", "ArraySinglePrimitive", "ArraySingleObject",
                 "ArraySingleString")


@dataclass(frozen=True, slots=True)
class _ClassLayout:
    name: str
    library: str | None
    members: tuple[str, ...]
    types: tuple[tuple[int, object], ...]  # (BinaryTypeEnumeration, additional info) per member


class _Nulls:
    """ObjectNullMultiple(256): this many nulls in an array."""

    __slots__ = ("count",)

    def __init__(self, count: int) -> None:
        self.count = count


class _Decoder:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.at = 0
        self.records = 0
        self.libraries: dict[int, str] = {}
        self.layouts: dict[int, _ClassLayout] = {}  # by the id of the object that first described the class
        self.objects: dict[int, Value] = {}

    # ---- primitives

    def take(self, size: int) -> memoryview:
        end = self.at + size
        if size < 0 or end > len(self.data):
            raise NrbfError(f"the stream ends at byte {len(self.data)}, inside a value at byte {self.at}")
        piece = self.data[self.at:end]
        self.at = end
        return piece

    def byte(self) -> int:
        at = self.at
        if at >= len(self.data):
            raise NrbfError(f"the stream ends at byte {len(self.data)}, where a record or value was expected")
        self.at = at + 1
        return self.data[at]

    def int32(self) -> int:
        at = self.at
        if at + 4 > len(self.data):
            raise NrbfError(f"the stream ends at byte {len(self.data)}, inside a value at byte {at}")
        self.at = at + 4
        return int(_INT32.unpack_from(self.data, at)[0])

    def count(self, what: str, limit: int) -> int:
        at = self.at
        value = self.int32()
        if not 0 <= value <= limit:
            raise NrbfError(f"{what} of {value:,} at byte {at} (expected 0 to {limit:,})")
        return value

    def string(self) -> str:
        """LengthPrefixedString: a 7-bit encoded length (at most 5 bytes), then UTF-8."""
        at, length, shift = self.at, 0, 0
        for _ in range(5):
            part = self.byte()
            length |= (part & 0x7F) << shift
            shift += 7
            if not part & 0x80:
                break
        else:
            raise NrbfError(f"a string length of more than 5 bytes at byte {at}")
        if length > len(self.data) - self.at:
            raise NrbfError(f"a string of {length:,} bytes at byte {at}, past the end of the stream")
        try:
            return str(self.take(length), "utf-8")
        except UnicodeDecodeError:
            raise NrbfError(f"a string that is not UTF-8 at byte {at}") from None

    def primitive(self, kind: int) -> Value:
        fixed = _FIXED.get(kind)
        if fixed is not None:
            value = struct.unpack(fixed, self.take(struct.calcsize(fixed)))[0]
            return value  # type: ignore[no-any-return]
        if kind in (_DECIMAL, _PRIMITIVE_STRING):
            return self.string()
        if kind == _CHAR:
            first = self.data[self.at] if self.at < len(self.data) else 0
            size = 1 if first < 0x80 else 2 if first < 0xE0 else 3 if first < 0xF0 else 4
            try:
                return str(self.take(size), "utf-8")
            except UnicodeDecodeError:
                raise NrbfError(f"a Char that is not UTF-8 at byte {self.at - size}") from None
        if kind == _NULL:
            return None
        raise NrbfError(f"an unknown primitive type {kind} at byte {self.at}")

    # ---- records

    def record(self, depth: int) -> Value | _Nulls:
        if depth > MAX_DEPTH:
            raise NrbfError(f"values nested more than {MAX_DEPTH} deep at byte {self.at}")
        self.records += 1
        if self.records > MAX_RECORDS:
            raise NrbfError(f"more than {MAX_RECORDS:,} records")
        at = self.at
        kind = self.byte()
        while kind == 12:  # BinaryLibrary: comes before the record that first uses it
            library = self.int32()
            self.libraries[library] = self.string()
            at, kind = self.at, self.byte()
        if kind == 0:
            raise NrbfError(f"a second stream header at byte {at}")
        if kind in (1, 4, 5):
            return self._class(kind, depth)
        if kind == 6:
            object_id = self.int32()
            text = self.string()
            self.objects[object_id] = text
            return text
        if kind == 7:
            return self._binary_array(depth)
        if kind == 8:
            return self.primitive(self.byte())
        if kind == 9:
            return Reference(self.int32())
        if kind == 10:
            return None
        if kind == 13:
            return _Nulls(self.byte())
        if kind == 14:
            return _Nulls(self.count("a run of nulls", 1 << 24))
        if kind == 15:
            return self._primitive_array()
        if kind in (16, 17):
            object_id = self.int32()
            length = self.count("an array length", len(self.data))
            return self._elements(object_id, length, None, depth)
        if kind == 11:
            raise NrbfError(f"the stream ends (MessageEnd) at byte {at} where a value was expected")
        name = _RECORD_NAMES[kind] if kind < len(_RECORD_NAMES) else f"type {kind}"
        raise NrbfError(f"a record this reader does not read ({name}) at byte {at}")

    def _member_types(self, count: int) -> tuple[tuple[int, object], ...]:
        kinds = bytes(self.take(count))
        types: list[tuple[int, object]] = []
        for kind in kinds:
            info: object = None
            if kind in (_PRIMITIVE, _PRIMITIVE_ARRAY):
                info = self.byte()
            elif kind == _SYSTEM_CLASS:
                info = self.string()
            elif kind == _CLASS:
                info = (self.string(), self.int32())
            elif kind > _PRIMITIVE_ARRAY:
                raise NrbfError(f"an unknown member type {kind} at byte {self.at}")
            types.append((kind, info))
        return tuple(types)

    def _class(self, kind: int, depth: int) -> NrbfClass:
        object_id = self.int32()
        if kind == 1:  # ClassWithId: the members of a class described before
            metadata = self.int32()
            layout = self.layouts.get(metadata)
            if layout is None:
                raise NrbfError(f"object {object_id} uses the class of object {metadata}, not described before")
        else:
            name = self.string()
            count = self.count("a member count", MAX_MEMBERS)
            members = tuple(self.string() for _ in range(count))
            types = self._member_types(count)
            library = None
            if kind == 5:
                library_id = self.int32()
                if library_id not in self.libraries:
                    raise NrbfError(f"class {name!r} names library {library_id}, not declared before")
                library = self.libraries[library_id]
            layout = _ClassLayout(name, library, members, types)
            self.layouts[object_id] = layout
        found = NrbfClass(object_id, layout.name, layout.library)
        self.objects[object_id] = found
        for member, (member_kind, info) in zip(layout.members, layout.types, strict=True):
            if member_kind == _PRIMITIVE:
                found.members[member] = self.primitive(info)  # type: ignore[arg-type]
            else:
                value = self.record(depth + 1)
                if isinstance(value, _Nulls):
                    raise NrbfError(f"a run of nulls as the member {member!r} of {layout.name!r}")
                found.members[member] = value
        return found

    def _primitive_array(self) -> Value:
        object_id = self.int32()
        length = self.count("an array length", len(self.data))
        kind = self.byte()
        value: Value
        if kind == 2:  # Byte: the common case (a certificate), kept as bytes
            value = bytes(self.take(length))
        else:
            fixed = _FIXED.get(kind)
            if fixed is None:
                raise NrbfError(f"an array of primitive type {kind} at byte {self.at}")
            size = struct.calcsize(fixed)
            if length * size > len(self.data) - self.at:
                raise NrbfError(f"an array of {length:,} items at byte {self.at}, past the end of the stream")
            value = NrbfArray(object_id, [struct.unpack_from(fixed, self.take(size))[0] for _ in range(length)])
        self.objects[object_id] = value
        return value

    def _binary_array(self, depth: int) -> Value:
        object_id = self.int32()
        shape = self.byte()
        rank = self.count("an array rank", 32)
        lengths = [self.count("an array length", len(self.data)) for _ in range(rank)]
        if shape in (3, 4, 5):
            for _ in range(rank):
                self.int32()  # lower bounds: not needed to read the items
        elif shape > 5:
            raise NrbfError(f"an unknown array shape {shape} at byte {self.at}")
        total = 1
        for length in lengths:
            total *= length
            if total > len(self.data):
                raise NrbfError(f"an array of more items than the stream has bytes, at byte {self.at}")
        item_kind, info = self._member_types(1)[0]
        return self._elements(object_id, total, info if item_kind == _PRIMITIVE else None, depth)

    def _elements(self, object_id: int, length: int, primitive: object, depth: int) -> NrbfArray:
        array = NrbfArray(object_id, [])
        self.objects[object_id] = array
        items = array.items
        while len(items) < length:
            if primitive is not None:
                items.append(self.primitive(primitive))  # type: ignore[arg-type]
                continue
            value = self.record(depth + 1)
            if isinstance(value, _Nulls):
                if value.count > length - len(items):
                    raise NrbfError(f"more nulls than array {object_id} has room for")
                items.extend([None] * value.count)
            else:
                items.append(value)
        return array


def decode(data: bytes) -> Stream:
    """The stream's objects: its header, then records up to MessageEnd (the root is the header's RootId)."""
    if len(data) > MAX_STREAM_BYTES:
        raise NrbfError(f"a stream of {len(data):,} bytes, more than the {MAX_STREAM_BYTES:,} read")
    decoder = _Decoder(data)
    if decoder.byte() != 0:
        raise NrbfError("not a BinaryFormatter stream (no SerializationHeaderRecord at byte 0)")
    root_id = decoder.int32()
    decoder.int32()  # HeaderId
    major, minor = decoder.int32(), decoder.int32()
    if (major, minor) != (1, 0):
        raise NrbfError(f"a stream of version {major}.{minor} (1.0 expected)")
    while True:
        at = decoder.at
        if at >= len(decoder.data):
            raise NrbfError(f"the stream ends at byte {at} without MessageEnd")
        if decoder.data[at] == 11:
            decoder.at += 1
            break
        value = decoder.record(0)
        if isinstance(value, _Nulls):
            raise NrbfError(f"a run of nulls outside an array at byte {at}")
    if root_id not in decoder.objects:
        raise NrbfError(f"the root object {root_id} is not in the stream")
    return Stream(decoder.objects[root_id], decoder.objects)


def enum_number(value: Value) -> int | None:
    """The number of a boxed enum (a class whose one member is ``value__``), or a bare integer; None otherwise."""
    if isinstance(value, NrbfClass) and set(value.members) == {"value__"}:
        value = value.members["value__"]
    return value if isinstance(value, int) and not isinstance(value, bool) else None
