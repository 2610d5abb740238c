from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.decoding import decode_evidence
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.registry import read_records
from hybridtls.evidence.structured import read_csv, read_json
from hybridtls.model import RootCAType, ServerBasis

CSV_WITH_TYPE = (
    "#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate\n"
    '"Identity","Thumbprint","Services","RootCAType","IsSelfSigned","Issuer","Subject","NotAfter","CertificateDomains"\n'
    '"EXCAS1.contoso.com\\A1B2C3D4E5F60718293A4B5C6D7E8F9012345678","A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",'
    '"IMAP, POP, IIS, SMTP","Registry","False","CN=R3, O=Let\'s Encrypt, C=US","CN=mail.contoso.com",'
    '"3/14/2030 11:59:59 PM","System.Object[]"\n'
)


def test_csv_with_type_line(tmp_path) -> None:
    path = tmp_path / "certs.csv"
    path.write_text(CSV_WITH_TYPE, encoding="ascii")
    evidence = load_evidence([str(path)])
    [cert] = evidence.certificates
    assert cert.server is not None and cert.server.name == "EXCAS1.contoso.com"
    assert cert.server.basis is ServerBasis.IDENTITY
    assert cert.root_ca_type is RootCAType.REGISTRY
    assert cert.services == frozenset({"IMAP", "POP", "IIS", "SMTP"})
    assert cert.source.line == 3
    assert cert.certificate_domains == ()
    shallow = [n for n in evidence.notices if "type name" in n.message]
    assert shallow and shallow[0].source.line == 3 and "-join" in (shallow[0].hint or "")


def test_csv_without_type_line_and_cut_short() -> None:
    records = read_csv('"Thumbprint","Services"\n"AAAA","SMTP"\n', "c.csv")
    assert records[0].type_hint is None and records[0].get("Services").value.text == "SMTP"  # type: ignore[union-attr]
    with pytest.raises(EvidenceError) as caught:
        read_csv('"Thumbprint","Services","Subject"\n"AAAA","SMTP"\n', "c.csv")
    assert caught.value.line == 2 and "cut short" in caught.value.message


def test_json_array_with_numeric_enums_and_ms_dates(tmp_path) -> None:
    document = [
        {"PSComputerName": "excas1", "Thumbprint": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678", "RootCAType": 3,
         "Services": 29, "Status": 1, "IsSelfSigned": False, "NotAfter": "/Date(1899849599000)/",
         "NotBefore": {"value": "/Date(1868313600000)/", "DateTime": "Saturday, 15 March 2029 12:00:00 AM"},
         "CertificateDomains": [{"Address": "mail.contoso.com", "IncludeSubDomains": False}, "autodiscover.contoso.com"],
         "Issuer": "CN=R3, O=Let's Encrypt, C=US"},
        {"PSComputerName": "exmbx1", "Thumbprint": "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678", "RootCAType": 1,
         "Services": 16, "IsSelfSigned": False, "Issuer": "CN=R3, O=Let's Encrypt, C=US"},
    ]
    path = tmp_path / "certs.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    evidence = load_evidence([str(path)])
    first, second = evidence.certificates
    assert first.root_ca_type is RootCAType.REGISTRY and second.root_ca_type is RootCAType.THIRD_PARTY
    assert first.services == frozenset({"IMAP", "IIS", "SMTP", "UM"})
    assert first.not_after is not None and first.not_after.year == 2030
    assert first.not_before is not None and first.not_before.year == 2029
    assert first.certificate_domains == ("mail.contoso.com", "autodiscover.contoso.com")
    lines = path.read_text().splitlines()
    exmbx1_line = next(i for i, line in enumerate(lines, 1) if '"exmbx1"' in line)
    assert first.source.line == 2 and second.source.line == exmbx1_line - 1 and lines[exmbx1_line - 2].strip() == "{"
    assert second.field_lines["pscomputername"] == exmbx1_line
    mapped = [n for n in evidence.notices if "documented enum order" in n.message]
    # RootCAType 3 is confirmed by real data; 1 is only inferred, and says so
    assert [n.source.line for n in mapped] == [second.field_lines["rootcatype"]]


def test_json_value_wrapper_and_single_object() -> None:
    wrapped = json.dumps({"value": [{"Thumbprint": "X", "Services": "SMTP"}], "Count": 1})
    assert [r.get("Services").value.text for r in read_json(wrapped, "w.json")] == ["SMTP"]  # type: ignore[union-attr]
    assert len(read_json('{"Thumbprint": "X", "Services": "SMTP"}', "o.json")) == 1


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[\n  {"Thumbprint": "X",\n   "Services": ', 3, "not valid JSON"),
        ("[1, 2]", 1, "expected objects"),
    ],
)
def test_json_errors(text: str, line: int, words: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        read_json(text, "bad.json")
    assert caught.value.line == line and words in caught.value.message


@given(st.one_of(st.binary(max_size=1500),
                 st.text(max_size=1500).map(lambda t: t.encode("utf-8")),
                 st.text(alphabet='[]{}",:0123456789 \n#TYPEabc', max_size=400).map(lambda t: t.encode())))
def test_arbitrary_bytes_into_a_reader_raise_only_evidence_error(data: bytes) -> None:
    try:
        decode_evidence(data, "fuzz")  # text that decodes; any bytes into the registry: tests/evidence
        records = list(read_records(EvidenceFile("fuzz", data)))
    except EvidenceError as exc:
        assert exc.path == "fuzz" and exc.message
    else:
        assert records


def test_json_lines_stay_right_for_large_arrays(monkeypatch) -> None:
    """Each object is decoded once, json.loads is never asked for the whole text, and the line cited for the
    k-th object and each of its properties is the line it is on, however many objects there are."""
    from hybridtls.evidence import structured

    count = 5000
    document = [{"MessageTraceId": f"id-{k}", "Size": k, "Status": "Pending" if k % 3 else "Delivered",
                 "RecipientDomains": ["a.contoso.com", "b.contoso.com"], "FromIP": None} for k in range(count)]
    text = json.dumps(document, indent=2).replace("\n", "\r\n")
    decoded = 0
    decode = structured._DECODER.raw_decode

    def counting(text: str, index: int = 0) -> object:
        nonlocal decoded
        decoded += 1
        return decode(text, index)

    monkeypatch.setattr(structured._DECODER, "raw_decode", counting)
    monkeypatch.setattr(structured.json, "loads", lambda *a, **k: pytest.fail("the whole text was parsed again"))
    records = read_json(text, "big.json")
    assert decoded == count and len(records) == count
    lines = text.split("\r\n")
    for k in (0, 1, count // 2, count - 1):
        record = records[k]
        assert lines[record.source.line - 1].strip() == "{"
        for raw in record.fields:
            assert lines[raw.line - 1].lstrip().startswith(f'"{raw.label}"'), (k, raw.label)
        assert record.get("MessageTraceId").value.text == f"id-{k}"  # type: ignore[union-attr]
