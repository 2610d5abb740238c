"""CliXML (Export-Clixml): records with the text forms' labels, RootCAType/Status/Services from SerializationData,
RawData as the exact certificate, the same diagnosis as the Format-List twin, and hostile XML refused, bounded."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from clixml_writer import Exported, clixml, format_list_record, founding_chain, founding_trust
from conftest import CASES, FIXTURES, check_findings, format_list, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nrbf_writer import exchange_certificate, serialized_cert

from hybridtls.errors import EvidenceError
from hybridtls.evidence.clixml import MAX_DEPTH, CliXmlReader, iter_clixml
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.kinds import classify
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.registry import read_records, reader_for
from hybridtls.model import CertificateFile, CertificateStatus, Notice, RootCAType, Source
from hybridtls.pki.facts import certificate_facts

FIXTURE = FIXTURES / "clixml" / "excas1" / "Get-ExchangeCertificate.xml"
NS = 'xmlns="http://schemas.microsoft.com/powershell/2004/04"'


def _read(text: str, path: str = "x.xml") -> list[object]:
    return list(read_records(EvidenceFile(path, text.encode("utf-8"))))


def _objs(*objects: str) -> str:
    return f'<Objs Version="1.1.0.1" {NS}>\n' + "\n".join(objects) + "\n</Objs>\n"


def test_the_export_reads_as_a_certificate_record_with_serialized_members() -> None:
    text = FIXTURE.read_bytes().decode("utf-16")
    lines = text.splitlines()
    records = list(read_records(EvidenceFile(str(FIXTURE), FIXTURE.read_bytes())))
    record = records[0]
    assert isinstance(record, RawRecord)
    assert record.type_hint == ("Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks."
                                "ExchangeCertificate")
    assert classify(record) is not None and classify(record).name == "ExchangeCertificate"  # type: ignore[union-attr]
    assert record.source.line == 2 and '<Obj RefId="0">' in lines[1]
    # every property cites its own line; the serialized members cite SerializationData's
    for key, line in record.lines.items():
        assert f'N="{record.get(key).label}"' in lines[line - 1] or "SerializationData" in lines[line - 1]  # type: ignore[union-attr]
    serialization_line = next(i for i, line in enumerate(lines, 1) if 'N="SerializationData"' in line)
    for label, text_value, number in (("RootCAType", "Registry", None), ("Status", "Valid", None),
                                      ("Services", "27", 27)):
        found = record.get(label)
        assert found is not None and found.value.number == number and found.value.text == text_value
        assert found.line == serialization_line
    identity = record.get("Identity")
    assert identity is not None and identity.value.text.startswith("EXCAS1\\")
    assert record.get("CertificateDomains").value.items == ("owa.domain.com", "autodiscover.domain.com")  # type: ignore[union-attr]
    assert record.get("IssuerName").value.text.startswith("CN=QuoVadis EV SSL ICA G1")  # type: ignore[union-attr]
    assert record.get("NotAfter").value.text == "2018-02-12T13:53:00.0000000+00:00"  # type: ignore[union-attr]
    files = [r for r in records if isinstance(r, CertificateFile)]
    assert len(files) == 1 and files[0].thumbprint == record.get("Thumbprint").value.text  # type: ignore[union-attr]
    raw_data_line = next(i for i, line in enumerate(lines, 1) if '<BA N="RawData">MII' in line)
    assert files[0].source.line == raw_data_line


def test_the_loader_builds_the_certificate_as_exchange_reported_it() -> None:
    evidence = load_evidence([str(FIXTURE)])
    assert not evidence.problems
    (cert,) = evidence.certificates
    assert cert.root_ca_type is RootCAType.REGISTRY and cert.status is CertificateStatus.VALID
    assert cert.services == frozenset({"IMAP", "POP", "IIS", "SMTP"})
    assert cert.server is not None and cert.server.name == "EXCAS1"
    assert cert.certificate_domains == ("owa.domain.com", "autodiscover.domain.com")
    assert cert.not_after is not None and cert.not_after.year == 2018 and cert.has_private_key is True
    assert evidence.certificate_files[0].thumbprint == cert.thumbprint


def _estate(tmp_path: Path, form: str, item: Exported, *, with_cer: bytes | None = None) -> Path:
    target = tmp_path / form
    shutil.copytree(CASES / "founding-incident", target)
    (target / "excas1" / "Get-ExchangeCertificate.txt").unlink()
    if form == "clixml":
        (target / "excas1" / "Get-ExchangeCertificate.xml").write_bytes(
            b"\xff\xfe" + clixml(item).encode("utf-16-le"))
    else:
        (target / "excas1" / "Get-ExchangeCertificate.txt").write_text(format_list(format_list_record(item)))
    if with_cer is not None:
        (target / "excas1" / "owa.cer").write_bytes(with_cer)
    return target


@pytest.mark.parametrize("root_ca_type", [3, 1])
def test_clixml_gives_the_diagnosis_of_its_format_list_twin(tmp_path: Path, root_ca_type: int) -> None:
    """The founding incident's estate, EXCAS1's certificate given as Export-Clixml or as Format-List: the same
    findings, the root cause included (RootCAType Registry) or not (ThirdParty). The chain is judged against the
    test's private root in both, so that only what the two forms say about Exchange is compared."""
    _, _, leaf = founding_chain()
    trust = founding_trust(tmp_path)
    item = Exported(leaf.cert, root_ca_type=root_ca_type, server="EXCAS1")
    as_xml = check_findings(str(_estate(tmp_path, "clixml", item)), *trust)
    as_text = check_findings(str(_estate(tmp_path, "format-list", item, with_cer=leaf.der)), *trust)
    assert as_xml == as_text
    assert (("HT-ROOT-001", "EXCAS1") in as_xml) is (root_ca_type == 3)
    assert {("HT-TRACE-001", None), ("HT-TRACE-002", None)} <= as_xml


def test_without_the_root_its_own_certificate_speaks_for_the_chain(tmp_path: Path) -> None:
    """RawData is the certificate itself: its chain is judged (a private CA here), as for the same file given."""
    _, _, leaf = founding_chain()
    item = Exported(leaf.cert, server="EXCAS1")
    as_xml = check_findings(str(_estate(tmp_path, "clixml", item)))
    assert as_xml == check_findings(str(_estate(tmp_path, "format-list", item, with_cer=leaf.der)))
    assert ("HT-CHAIN-002", None) in as_xml and ("HT-ROOT-001", "EXCAS1") in as_xml


def test_xml_properties_win_over_serialization_data() -> None:
    blob = exchange_certificate(serialized_cert(b"not a certificate"), root_ca_type=3, status=1, services=16)
    import base64

    text = _objs('<Obj RefId="0"><TN RefId="0"><T>Deserialized.Microsoft.Exchange.Management.'
                 'SystemConfigurationTasks.ExchangeCertificate</T></TN><Props>',
                 '<S N="Thumbprint">' + "AB" * 20 + "</S>",
                 '<Obj N="RootCAType" RefId="1"><TN RefId="1"><T>Deserialized.System.Enum</T></TN>'
                 "<ToString>ThirdParty</ToString><I32>1</I32></Obj>",
                 f'</Props><MS><BA N="SerializationData">{base64.b64encode(blob).decode()}</BA></MS></Obj>')
    records = _read(text)
    record = records[0]
    assert isinstance(record, RawRecord)
    assert record.get("RootCAType").value.text == "ThirdParty"  # type: ignore[union-attr]
    assert record.get("Status").value.text == "Valid" and record.get("Services").value.number == 16  # type: ignore[union-attr]
    # CertData that holds no certificate: a note, never a failure of the file
    assert any(isinstance(r, Notice) and "could not be read" in r.message for r in records)


def test_unreadable_serialization_data_is_a_note_and_the_record_stays() -> None:
    text = _objs('<Obj RefId="0"><TN RefId="0"><T>Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.'
                 'ExchangeCertificate</T></TN><Props><S N="Thumbprint">' + "AB" * 20 + '</S><B N="IsSelfSigned">false'
                 '</B><B N="HasPrivateKey">true</B></Props><MS><BA N="SerializationData">AAEAAAD/////</BA></MS></Obj>')
    record, notice = _read(text)
    assert isinstance(record, RawRecord) and record.get("RootCAType") is None
    assert isinstance(notice, Notice) and notice.source.line == 2 and "SerializationData could not be read" in notice.message


def test_type_names_references_and_collections() -> None:
    text = _objs(
        '<Obj RefId="0"><TN RefId="0"><T>Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.'
        'ReceiveConnector</T><T>Deserialized.System.Object</T></TN><ToString>EXCAS1\\Default Frontend</ToString>',
        "<Props>",
        '<S N="Identity">EXCAS1\\Default Frontend EXCAS1</S>',
        '<Obj N="Bindings" RefId="1"><TN RefId="1"><T>Deserialized.Microsoft.Exchange.Data.MultiValuedProperty`1'
        "</T></TN><LST><S>0.0.0.0:25</S><S>[::]:25</S></LST></Obj>",
        '<Obj N="AuthMechanism" RefId="2"><TN RefId="2"><T>Deserialized.Microsoft.Exchange.Data.AuthMechanisms</T>'
        "</TN><ToString>Tls, Integrated, BasicAuth</ToString><I32>7</I32></Obj>",
        '<S N="TlsCertificateName">&lt;I&gt;CN=CA&lt;S&gt;CN=mail.contoso.com</S>',
        '<Obj N="Extra" RefId="5"><TN RefId="3"><T>Deserialized.System.Collections.Hashtable</T></TN>'
        '<DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En></DCT></Obj>',
        "</Props></Obj>",
        '<Obj RefId="3"><TNRef RefId="0" /><Props><S N="Identity">EXCAS2\\Default Frontend EXCAS2</S>',
        '<Ref N="Bindings" RefId="1" /><Nil N="TlsCertificateName" /></Props></Obj>',
    )
    first, second = _read(text)
    assert isinstance(first, RawRecord) and isinstance(second, RawRecord)
    assert first.type_hint == second.type_hint and first.type_hint.endswith(".ReceiveConnector")  # type: ignore[union-attr]
    assert first.get("Bindings").value.items == ("0.0.0.0:25", "[::]:25")  # type: ignore[union-attr]
    assert second.get("Bindings").value.items == ("0.0.0.0:25", "[::]:25")  # type: ignore[union-attr]
    assert first.get("AuthMechanism").value.text == "Tls, Integrated, BasicAuth"  # type: ignore[union-attr]
    assert first.get("TlsCertificateName").value.text == "<I>CN=CA<S>CN=mail.contoso.com"  # type: ignore[union-attr]
    assert first.get("Extra").value.items == ("a=1",)  # type: ignore[union-attr]
    assert second.get("TlsCertificateName").value.empty  # type: ignore[union-attr]
    assert [first.source.line, second.source.line] == [2, 10]
    assert classify(first).name == "ReceiveConnector"  # type: ignore[union-attr]


def test_xml_that_is_not_clixml_is_named() -> None:
    with pytest.raises(EvidenceError, match=r"root is <Events>, not <Objs>"):
        _read('<?xml version="1.0"?>\n<Events><Event/></Events>')
    with pytest.raises(EvidenceError, match=r"no objects \(2 plain values\)"):
        _read(_objs("<S>a</S>", "<I32>1</I32>"))
    with pytest.raises(EvidenceError, match="not well-formed XML") as caught:
        _read(_objs('<Obj RefId="0"><Props><S N="a">x</Props></Obj>'))
    assert caught.value.line == 2


def test_a_utf16_export_with_its_declaration_is_read() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?>\r\n' + _objs('<Obj RefId="0"><Props><S N="a">é</S></Props></Obj>')
    records = list(read_records(EvidenceFile("x.xml", b"\xff\xfe" + text.encode("utf-16-le"))))
    assert records[0].get("a").value.text == "é"  # type: ignore[union-attr]
    assert reader_for(EvidenceFile("x.xml", text.encode())).name == CliXmlReader.name


# ---------------------------------------------------------------- hostile XML

_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
           + "".join(f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
                     for i in range(1, 10))
           + ']>\n<Objs><Obj><Props><S N="a">&lol9;</S></Props></Obj></Objs>\n')
_EXTERNAL = ('<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
             '<Objs><Obj><Props><S N="a">&xxe;</S></Props></Obj></Objs>\n')
_PARAMETER = ('<?xml version="1.0"?>\n<!DOCTYPE x [ <!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p; ]>\n'
              "<Objs/>\n")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (_LAUGHS, "refused unread"),
        (_EXTERNAL, "refused unread"),
        (_PARAMETER, "refused unread"),
        (f"<Objs {NS}>" + "<Obj>" * 100_000 + "</Obj>" * 100_000 + "</Objs>", f"nested more than {MAX_DEPTH}"),
        (f'<Objs {NS}><Obj a="' + "x" * 50_000_000 + '"/></Objs>', "an attribute 'a' of 50,000,000"),
        (f'<Objs {NS}><Obj><Props><S N="a">' + "x" * 20_000_000 + "</S></Props></Obj></Objs>", "more than 16,777,216"),
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity", "deep-nesting", "50MB-attribute", "huge-text"],
)
def test_hostile_xml_is_one_line_refused_in_bounded_time(text: str, words: str) -> None:
    start = time.perf_counter()
    with pytest.raises(EvidenceError) as caught:
        _read(text)
    assert time.perf_counter() - start < 20
    assert words in caught.value.message and "\n" not in str(caught.value)


def test_hostile_xml_through_the_command_line_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "lol.xml").write_text(_LAUGHS)
    run = run_cli("check", str(tmp_path / "lol.xml"))
    assert run.code == 2 and "refused unread" in run.err and "Traceback" not in run.err


# ---------------------------------------------------------------- properties

_label = st.sampled_from(["Thumbprint", "Subject", "Status", "Name", "Identity", "Ünicode", "a-b"])
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_label, st.one_of(_text, st.integers(-(2**31), 2**31 - 1), st.booleans()),
                                min_size=1, max_size=5), min_size=1, max_size=5))
def test_objects_round_trip(objects: list[dict[str, object]]) -> None:
    from xml.sax.saxutils import escape

    def element(label: str, value: object) -> str:
        if isinstance(value, bool):
            return f'<B N="{label}">{str(value).lower()}</B>'
        if isinstance(value, int):
            return f'<I32 N="{label}">{value}</I32>'
        return f'<S N="{label}">{escape(str(value))}</S>'

    text = _objs(*(f'<Obj RefId="{i}"><Props>' + "".join(element(k, v) for k, v in o.items()) + "</Props></Obj>"
                   for i, o in enumerate(objects)))
    records = [r for r in iter_clixml(text, "x.xml") if isinstance(r, RawRecord)]
    assert len(records) == len(objects)
    for record, written in zip(records, objects):
        assert [f.label for f in record.fields] == list(written)
        for field, value in zip(record.fields, written.values()):
            if isinstance(value, bool):
                assert field.value.text == str(value)
            elif isinstance(value, int):
                assert field.value.number == value
            else:
                assert field.value.text == value.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_xml_raises_only_evidence_error(tail: str) -> None:
    for text in (f"<Objs {NS}>" + tail, "<?xml" + tail, "<Objs" + tail):
        try:
            list(read_records(EvidenceFile("x.xml", text.encode("utf-8", "surrogatepass"))))
        except EvidenceError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_exports_raise_only_evidence_error(data: st.DataObject) -> None:
    text = FIXTURE.read_bytes().decode("utf-16")
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text) - 1))
        text = text[:at] + data.draw(st.sampled_from(["<", ">", "&", '"', "", "x", "</Obj>", "<Obj>", "A"])) + text[at + 1:]
    try:
        list(read_records(EvidenceFile("x.xml", text.encode("utf-8"))))
    except EvidenceError:
        pass


def test_the_certificate_in_cert_data_stands_in_for_a_missing_raw_data() -> None:
    _, _, leaf = founding_chain()
    text = clixml(Exported(leaf.cert, server="EXCAS1"))
    raw_data_line = next(line for line in text.splitlines() if '<BA N="RawData">MII' in line)
    records = _read(text.replace(raw_data_line + "\r\n", ""))
    files = [r for r in records if isinstance(r, CertificateFile)]
    assert [f.der for f in files] == [leaf.der]
    serialization_line = next(i for i, line in enumerate(text.replace(raw_data_line + "\r\n", "").splitlines(), 1)
                              if "SerializationData" in line)
    assert files[0].source.line == serialization_line
    assert records[0].get("RawData") is None  # type: ignore[union-attr]  # only CertData held it


def test_nested_objects_are_values_not_records() -> None:
    """HealthChecker's XML is one object of nested objects: one record, which no kind takes, is listed as skipped."""
    text = _objs('<Obj RefId="0"><TN RefId="0"><T>HealthChecker.HealthCheckerExchangeServer</T></TN><Props>',
                 '<S N="ServerName">EXCAS1</S>',
                 '<Obj N="ExchangeCertificates" RefId="1"><TN RefId="1"><T>System.Object[]</T></TN><LST>',
                 '<Obj RefId="2"><TN RefId="2"><T>Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.'
                 'ExchangeCertificate</T></TN><ToString>[Subject] CN=owa</ToString><Props><S N="Thumbprint">'
                 + "AB" * 20 + "</S></Props></Obj>",
                 "</LST></Obj></Props></Obj>")
    (record,) = _read(text)
    assert isinstance(record, RawRecord) and record.type_hint == "HealthChecker.HealthCheckerExchangeServer"
    assert record.get("ExchangeCertificates").value.items == ("[Subject] CN=owa",)  # type: ignore[union-attr]
    assert classify(record) is None


def test_only_an_exchange_certificate_gives_its_certificate_and_serialized_members() -> None:
    """A store listing's certificate (Get-ChildItem Cert:) has RawData too, and a connector a SerializationData of its
    own: neither is read as an Exchange certificate's, and neither is a note."""
    import base64

    _, _, leaf = founding_chain()
    text = _objs(
        '<Obj RefId="0"><TN RefId="0"><T>Deserialized.System.Security.Cryptography.X509Certificates.X509Certificate2'
        '</T></TN><Props><S N="Thumbprint">' + "AB" * 20 + f'</S><BA N="RawData">{base64.b64encode(leaf.der).decode()}'
        '</BA><S N="PSParentPath">Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Root</S></Props></Obj>',
        '<Obj RefId="1"><TN RefId="1"><T>Deserialized.Microsoft.Exchange.Data.Directory.SystemConfiguration.'
        'ReceiveConnector</T></TN><Props><S N="Identity">EXCAS1\\Default Frontend EXCAS1</S></Props><MS>'
        '<BA N="SerializationData">AAEAAAD/////</BA></MS></Obj>')
    records = _read(text)
    assert [type(r).__name__ for r in records] == ["RawRecord", "RawRecord"]
    assert records[1].get("RootCAType") is None  # type: ignore[union-attr]
    kind = classify(records[0])  # type: ignore[arg-type]  # a root in a store is no Exchange certificate
    assert kind is not None and kind.name == "StoreCertificate"


def test_a_store_listing_is_never_read_as_exchange_certificates(tmp_path: Path) -> None:
    """Get-ChildItem Cert:\\LocalMachine\\Root saved as CliXML or CSV: X509Certificate2 objects share Thumbprint,
    Subject and HasPrivateKey with Get-ExchangeCertificate, but no finding may speak of a root CA's private key."""
    root, _, _ = founding_chain()
    thumbprint = certificate_facts(root.cert, source=Source(path="x"), label="x").thumbprint
    (tmp_path / "root.xml").write_text(_objs(
        '<Obj RefId="0"><TN RefId="0"><T>Deserialized.System.Security.Cryptography.X509Certificates.X509Certificate2'
        '</T><T>Deserialized.System.Object</T></TN><Props><B N="HasPrivateKey">false</B>'
        f'<S N="Subject">CN=QuoVadis Root CA 2</S><S N="Thumbprint">{thumbprint}</S>'
        '<S N="PSParentPath">Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Root</S></Props></Obj>'))
    (tmp_path / "root.csv").write_text(
        '#TYPE System.Security.Cryptography.X509Certificates.X509Certificate2\n"Thumbprint","Subject","HasPrivateKey"\n'
        f'"{thumbprint}","CN=QuoVadis Root CA 2","False"\n')
    evidence = load_evidence([str(tmp_path)])
    assert evidence.certificates == () and evidence.skipped == ()
    assert sorted(Path(c.source.path).name for c in evidence.store_certificates) == ["root.csv", "root.xml"]


@pytest.mark.parametrize(("number", "expected"), [(1, RootCAType.THIRD_PARTY), (2, RootCAType.ENTERPRISE),
                                                  (4, RootCAType.GROUP_POLICY), (0, RootCAType.NONE)])
def test_a_typed_enum_reads_by_its_type_without_a_note(tmp_path: Path, number: int, expected: RootCAType) -> None:
    """The stream names the enum's type (CertificateAuthorityType): the number is read as Format-List would print its
    name, with no note that a bare number was mapped by a guessed order."""
    _, _, leaf = founding_chain()
    path = tmp_path / "certs.xml"
    path.write_text(clixml(Exported(leaf.cert, root_ca_type=number, status=4, server="EXCAS1")))
    evidence = load_evidence([str(path)])
    (cert,) = evidence.certificates
    assert cert.root_ca_type is expected and cert.status is CertificateStatus.UNTRUSTED
    assert not [n for n in evidence.notices if "enum order" in n.message]
    record = next(r for r in _read(path.read_text()) if isinstance(r, RawRecord))
    assert record.get("RootCAType").value.text == expected.value  # type: ignore[union-attr]


_TYPES = {"Get-ExchangeCertificate": "Microsoft.Exchange.Management.SystemConfigurationTasks.ExchangeCertificate",
          "Get-ReceiveConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.ReceiveConnector",
          "Get-SendConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.SmtpSendConnectorConfig",
          "Get-HybridConfiguration": "Microsoft.Exchange.Data.Directory.SystemConfiguration.HybridConfiguration",
          "Get-InboundConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.TenantInboundConnector",
          "Get-OutboundConnector": "Microsoft.Exchange.Data.Directory.SystemConfiguration.TenantOutboundConnector"}


def _as_clixml(records: list[RawRecord], type_name: str) -> str:
    """Records as Export-Clixml writes their objects: strings, and lists for multi-valued properties."""
    from xml.sax.saxutils import escape

    def member(label: str, value: object) -> str:
        items = getattr(value, "items", None)
        if items is not None:
            inner = "".join(f"<S>{escape(i)}</S>" for i in items)
            return (f'<Obj N="{label}"><TN RefId="9"><T>Deserialized.Microsoft.Exchange.Data.MultiValuedProperty`1'
                    f"</T></TN><LST>{inner}</LST></Obj>")
        return f'<S N="{label}">{escape(getattr(value, "text", ""))}</S>'

    return _objs(*(f'<Obj RefId="{n}"><TN RefId="{n + 100}"><T>Deserialized.{type_name}</T></TN><Props>'
                   + "".join(member(f.label, f.value) for f in r.fields) + "</Props></Obj>"
                   for n, r in enumerate(records)))


def test_an_estate_saved_as_clixml_reads_as_its_text(tmp_path: Path) -> None:
    """Every Format-List file of an estate (certificates, connectors, the hybrid configuration, Exchange Online's
    connectors) saved instead as CliXML objects: the same records, and the same findings."""
    estate = FIXTURES / "plan" / "estate"
    target = tmp_path / "estate"
    for path in sorted(estate.rglob("*.txt")):
        records = [r for r in read_records(EvidenceFile(str(path), path.read_bytes())) if isinstance(r, RawRecord)]
        assert records, path
        saved = target / path.relative_to(estate).with_suffix(".xml")
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(_as_clixml(records, _TYPES[path.stem]), encoding="utf-8")

    def unsourced(value: object) -> object:
        if isinstance(value, dict):
            return {k: unsourced(v) for k, v in value.items() if k not in ("source", "files", "notices")}
        if isinstance(value, list):
            return [unsourced(v) for v in value]
        return value

    def summary(folder: Path) -> tuple[object, ...]:
        run = run_cli("check", str(folder), "--format", "json", "--now", "2026-11-27")
        report = json.loads(run.out)
        return run.code, sorted((f["check_id"], f["server"]) for f in report["findings"]), unsourced(report["records"])

    as_xml, as_text = summary(target), summary(estate)
    assert as_xml == as_text
    records = as_xml[2]
    assert isinstance(records, dict) and len(records["certificates"]) == 6 and len(records["online_connectors"]) == 2
    assert records["send_connectors"][0]["tls_certificate_name"].startswith("<I>CN=DigiCert")
