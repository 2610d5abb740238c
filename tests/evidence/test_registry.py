"""The readers behind one interface: the registry picks the reader a file's name and first bytes call for, and
reading through the registry is reading with that reader; nothing a file holds escapes as anything but an
EvidenceError naming the file."""

from __future__ import annotations

import json
import os
import typing
from pathlib import Path

import pytest
from conftest import certificate, format_list
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import ConsoleReader
from hybridtls.evidence.interface import EvidenceFile, EvidenceReader
from hybridtls.evidence.kinds import KINDS
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.registry import FIELDS, READERS, read_records, reader_for
from hybridtls.evidence.structured import CsvReader, JsonReader
from hybridtls.model import EvidenceSet

_LABELS = ["Thumbprint", "Services", "Subject", "RootCAType", "NotAfter", "Status", "Received", "Message Trace ID",
           "SenderAddress", "RecipientAddress", "CertificateDomains", "Identity"]
_VALUES = st.one_of(st.sampled_from(["True", "Registry", "SMTP", "{a, b}", "12/02/2016 1:53:00 PM", "18/02/2016",
                                     "System.Object[]", "", "IP.WS..", "x\\y", "3"]),
                    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
_RECORDS = st.lists(st.dictionaries(st.sampled_from(_LABELS), _VALUES, min_size=1, max_size=8), min_size=1, max_size=5)


def _render(form: str, records: list[dict[str, str]]) -> tuple[str, str]:
    if form == "json":
        return "out.json", json.dumps(records, indent=2)
    if form == "csv":
        labels = list(dict.fromkeys(label for record in records for label in record))
        rows = [",".join(json.dumps(record.get(label, "")) for label in labels) for record in records]
        return "out.csv", ",".join(json.dumps(label) for label in labels) + "\n" + "\n".join(rows) + "\n"
    return "out.txt", "\n\n".join("\n".join(f"{k} : {v}" for k, v in record.items()) for record in records)


def _outcome(reader: EvidenceReader | None, name: str, data: bytes) -> object:
    """The records read (or the error raised), through the registry (reader None) or one reader directly."""
    file = EvidenceFile(name, data)
    try:
        return list(read_records(file) if reader is None else reader.read(file))
    except EvidenceError as exc:
        return ("error", exc.path, exc.line, exc.message, exc.hint)


@given(st.sampled_from(["fl", "json", "csv"]), _RECORDS, st.sampled_from(["utf-8", "utf-16", "utf-8-sig"]))
def test_the_registry_reads_as_the_reader_it_picks(form: str, records: list[dict[str, str]], codec: str) -> None:
    name, text = _render(form, records)
    data = text.encode(codec)
    try:
        picked = reader_for(EvidenceFile(name, data))
    except EvidenceError as exc:  # text that does not decode: the registry says so the same way
        assert _outcome(None, name, data) == ("error", exc.path, exc.line, exc.message, exc.hint)
        return
    if form == "json" or (form == "csv" and len({k for r in records for k in r}) > 1):
        assert isinstance(picked, JsonReader if form == "json" else CsvReader)
    assert _outcome(None, name, data) == _outcome(picked, name, data)


@given(st.one_of(st.binary(max_size=2000),
                 st.text(max_size=1500).map(str.encode),
                 st.text(alphabet='[]{}",:0123456789 \n\r#TYPE<Objs?xml-BEGIN', max_size=400).map(str.encode)),
       st.sampled_from(["a.txt", "b.json", "c.csv", "d", "e.cer", "f.pem", "g.pfx", "h.xml"]))
def test_any_bytes_into_the_registry_raise_only_evidence_error(data: bytes, name: str) -> None:
    os.environ.pop("HYBRIDTLS_PFX_PASSWORD", None)
    try:
        records = list(read_records(EvidenceFile(name, data)))
    except EvidenceError as exc:
        assert exc.path == name and exc.message
        assert "\n" not in exc.message and "\n" not in (exc.hint or "")
        assert str(exc).startswith(name)
    else:
        assert records


@pytest.mark.parametrize(
    ("head", "words"),
    [
        ('<?xml version="1.0"?>\n<Objs Version="1.1.0.1">', "not well-formed XML (no element found"),
        ('<Objs Version="1.1.0.1"></Objs>', "CliXML with no objects"),
        ("\n#Software: Microsoft Exchange Server\n#Version: 15.0.0.0\n", "whose header has no #Fields line"),
        ("#Software: Microsoft Exchange Server\n#Log-type: Transport Connectivity Log\n#Fields: date-time,session,"
         "source,Destination,direction,description\n", "'Transport Connectivity Log', not read yet"),
        ("\n\n   \n", "the file is empty"),
        ("no output here, only prose.\n", "no PowerShell output found"),
    ],
)
def test_unread_formats_keep_their_words(head: str, words: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        list(read_records(EvidenceFile("x.txt", head.encode())))
    assert words in caught.value.message and caught.value.path == "x.txt"


def test_every_record_kind_has_its_field() -> None:
    """What each kind builds (by its builder's return type) is gathered into an EvidenceSet field."""
    set_fields = set(EvidenceSet.__dataclass_fields__)
    assert set(FIELDS.values()) <= set_fields
    assert len(set(FIELDS.values())) == len(FIELDS)
    built = {t for kind in KINDS for t in typing.get_args(typing.get_type_hints(kind.build)["return"])
             or (typing.get_type_hints(kind.build)["return"],)} - {type(None)}
    built = {part for t in built for part in (typing.get_args(t) if typing.get_origin(t) is tuple else (t,))}
    assert built and built <= set(FIELDS)
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    assert isinstance(READERS[-1], ConsoleReader)


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    """Directly and through its folder, twice on the command line, and through a symbolic link."""
    folder = tmp_path / "evidence" / "excas1"
    folder.mkdir(parents=True)
    path = folder / "Get-ExchangeCertificate.txt"
    path.write_text(format_list(certificate()), encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(path)
    evidence = load_evidence([str(tmp_path / "evidence"), str(path), str(path), str(tmp_path / "link.txt")])
    assert evidence.files == (str(path),)
    assert len(evidence.certificates) == 1 and not evidence.problems
    [cert] = evidence.certificates
    assert cert.server is not None and cert.server.name == "excas1"  # as found first: in its server's folder
    linked_first = load_evidence([str(tmp_path / "link.txt"), str(tmp_path / "evidence")])
    assert linked_first.files == (str(tmp_path / "link.txt"),) and len(linked_first.certificates) == 1


def test_a_file_lets_its_bytes_go_once_decoded() -> None:
    data = "\ufeffThumbprint : AAAA\r\nServices : SMTP\r\n".encode("utf-16-le")
    file = EvidenceFile("certs.txt", data)
    assert file.data is data and not file.decoded
    assert file.first_line() == "Thumbprint : AAAA"
    with pytest.raises(RuntimeError):
        file.data  # noqa: B018 - the bytes are gone: only the text is held
    [record] = read_records(file)
    assert record.get("Services").value.text == "SMTP"  # type: ignore[union-attr]
