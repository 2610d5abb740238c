"""The BinaryFormatter (MS-NRBF) reader: what an ExchangeCertificate's SerializationData holds, round trips through the
test writer, and refusals that stay NrbfError whatever the bytes."""

from __future__ import annotations

import struct
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nrbf_writer import CERTIFICATE_CLASS, Obj, Typed, encode, enum, exchange_certificate, lps, serialized_cert

from hybridtls.evidence import nrbf
from hybridtls.evidence.clixml import serialized_certificate
from hybridtls.evidence.nrbf import NrbfArray, NrbfClass, NrbfError, decode, enum_number


def plain(stream: nrbf.Stream, value: Any, depth: int = 0) -> Any:
    """A decoded value as the writer's input: references followed, classes as (name, library, members)."""
    value = stream.resolve(value)
    if isinstance(value, NrbfClass):
        return (value.name, value.library, {k: plain(stream, v, depth + 1) for k, v in value.members.items()})
    if isinstance(value, NrbfArray):
        return [plain(stream, v, depth + 1) for v in value.items]
    return value


def as_written(value: Any) -> Any:
    if isinstance(value, Obj):
        return (value.name, value.library, {k: as_written(v) for k, v in value.members.items()})
    if isinstance(value, list):
        return [as_written(v) for v in value]
    if isinstance(value, Typed):
        return value.value
    return value


def test_exchange_certificate_members() -> None:
    der = b"\x30\x82\x01\x00" + bytes(256)
    stream = decode(exchange_certificate(serialized_cert(der), status=1, root_ca_type=3, services=27,
                                         identity="EXCAS1\\" + "AB" * 20))
    root = stream.root
    assert isinstance(root, NrbfClass) and root.name == CERTIFICATE_CLASS
    assert root.library is not None and root.library.startswith("Microsoft.Exchange.Management,")
    assert list(root.members) == ["CertData", "SelfSigned", "Status", "RootCAType", "Services", "IISServices",
                                  "PrivateKeyExportable", "Identity"]
    numbers = {name: enum_number(root.members[name]) for name in ("Status", "RootCAType", "Services")}
    assert numbers == {"Status": 1, "RootCAType": 3, "Services": 27}
    rca = root.members["RootCAType"]
    assert isinstance(rca, NrbfClass) and rca.name.endswith(".CertificateAuthorityType")
    assert root.members["SelfSigned"] is False and root.members["Identity"] == "EXCAS1\\" + "AB" * 20
    cert_data = stream.resolve(root.members["CertData"])
    assert isinstance(cert_data, bytes) and serialized_certificate(cert_data) == der
    iis = stream.resolve(root.members["IISServices"])
    assert isinstance(iis, NrbfClass) and iis.library is None and plain(stream, iis.members["_items"]) == []


def test_a_class_met_again_is_read_from_its_first_description() -> None:
    """The second enum of a type is a ClassWithId record: its member types come from the first."""
    status = "Microsoft.Exchange.Management.SystemConfigurationTasks.CertificateStatus"
    data = encode(Obj("Pair", {"a": enum(status, 4), "b": enum(status, 7), "c": "after"}))
    assert b"\x01" + struct.pack("<ii", 3, 2) in data  # object 3 is of the class object 2 described
    stream = decode(data)
    assert plain(stream, stream.root)[2] == {"a": (status, enum("x", 0).library, {"value__": 4}),
                                             "b": (status, enum("x", 0).library, {"value__": 7}), "c": "after"}


@pytest.mark.parametrize("binary_array", [False, True])
def test_object_arrays_with_nulls_and_boxed_primitives(binary_array: bool) -> None:
    items = ["a", None, None, None, Typed(9, -5), None, Obj("Inner", {"x": 1}), "a"]
    stream = decode(encode(Obj("Outer", {"items": items}), binary_array=binary_array))
    assert plain(stream, stream.root)[2]["items"] == as_written(items)


def test_every_cut_of_a_stream_is_refused() -> None:
    data = exchange_certificate(serialized_cert(bytes(40)), identity="S\\T")
    for end in range(len(data)):
        with pytest.raises(NrbfError):
            decode(data[:end])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x01" + bytes(16), "no SerializationHeaderRecord"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 2, 0) + b"\x0b", "version 2.0"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + b"\x15" + bytes(8), "does not read (type 21)"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + b"\x02" + bytes(8), "does not read (SystemClassWithMembers)"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + b"\x01" + struct.pack("<ii", 1, 7) + b"\x0b",
         "not described before"),
        (b"\x00" + struct.pack("<iiii", 9, -1, 1, 0) + b"\x06" + struct.pack("<i", 1) + lps("x") + b"\x0b",
         "root object 9 is not in the stream"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + b"\x06" + struct.pack("<i", 1) + b"\x85\x80\x80\x80\x80\x01",
         "more than 5 bytes"),
        (b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + b"\x10" + struct.pack("<ii", 1, 2**31 - 1),
         "an array length"),
    ],
)
def test_refusals_name_what_and_where(data: bytes, words: str) -> None:
    with pytest.raises(NrbfError) as caught:
        decode(data)
    assert words in str(caught.value)


def test_depth_records_and_size_are_bounded() -> None:
    deep: Any = 1
    for _ in range(nrbf.MAX_DEPTH + 2):
        deep = Obj("Nest", {"v": deep}, inline=True)
    with pytest.raises(NrbfError, match="nested more than"):
        decode(encode(Obj("Root", {"v": deep})))
    many = encode(Obj("Root", {"v": ["s"] * (nrbf.MAX_RECORDS + 1)}))
    with pytest.raises(NrbfError, match="more than 10,000 records"):
        decode(many)
    with pytest.raises(NrbfError, match="more than the"):
        decode(b"\x00" * (nrbf.MAX_STREAM_BYTES + 1))


# ---------------------------------------------------------------- properties

_member_names = st.sampled_from(["value__", "_items", "CertData", "Status", "x", "Identity", "Ünï"])
_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31 - 1), _names, st.binary(max_size=40),
                     st.builds(Typed, st.just(9), st.integers(-(2**63), 2**63 - 1)))


def _objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    members = st.dictionaries(_member_names, children, max_size=4)
    return st.one_of(
        st.lists(children, max_size=5),
        st.builds(Obj, st.sampled_from(["A.B", "C.D", "E"]).map(lambda n: n + "." + "Value"), members,
                  st.sampled_from([None, "Lib, Version=1.0.0.0"]), st.booleans()),
    )


_values = st.recursive(_scalars, _objects, max_leaves=20)


def _members_of(value: Any) -> Any:
    """Arrays hold records: a bare bool or int there is written boxed (MemberPrimitiveTyped)."""
    if isinstance(value, list):
        return [Typed(1, v) if isinstance(v, bool) else Typed(8, v) if isinstance(v, int) else _members_of(v)
                for v in value]
    if isinstance(value, Obj):
        return Obj(value.name, {k: _members_of(v) for k, v in value.members.items()}, value.library, value.inline)
    return value


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_member_names, _values, max_size=6))
def test_round_trip_through_the_writer(members: dict[str, Any]) -> None:
    root = _members_of(Obj("Root.Type", members))
    stream = decode(encode(root))
    assert plain(stream, stream.root) == as_written(root)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_nrbf_error(data: bytes) -> None:
    try:
        decode(b"\x00" + struct.pack("<iiii", 1, -1, 1, 0) + data)
    except NrbfError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_blobs_raise_only_nrbf_error_and_quickly(data: st.DataObject) -> None:
    blob = bytearray(exchange_certificate(serialized_cert(bytes(64)), identity="EX\\AB"))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    start = time.perf_counter()
    try:
        decode(bytes(blob))
    except NrbfError:
        pass
    assert time.perf_counter() - start < 1.0
