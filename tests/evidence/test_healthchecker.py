"""HealthChecker's XML: the certificates, receive connectors and transport service nested in it are read as the
records their Format-List twins give, attributed to the server HealthChecker names, cited at their own lines."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from clixml_writer import (
    Exported,
    connector_format_list,
    excas1_healthchecker,
    format_list_record,
    founding_chain,
    founding_trust,
    frontend_connector,
)
from conftest import CASES, FIXTURES, check_findings, format_list
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.kinds import classify
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.registry import read_records
from hybridtls.model import CertificateFile, Notice, RootCAType, ServerBasis, Source
from hybridtls.pki.facts import certificate_facts

FIXTURE = FIXTURES / "healthchecker" / "HealthChecker-EXCAS1-201602200900.xml"  # clixml_writer.py healthchecker


def _thumbprint(item: Exported) -> str:
    return certificate_facts(item.cert, source=Source(path="x"), label="x").thumbprint


def _read(text: str, path: str = "hc.xml") -> list[object]:
    return list(read_records(EvidenceFile(path, text.encode("utf-8"))))


def test_nested_objects_are_records_cited_at_their_lines() -> None:
    _, _, leaf = founding_chain()
    text = excas1_healthchecker(Exported(leaf.cert))
    lines = text.splitlines()
    records = _read(text)
    raw = [r for r in records if isinstance(r, RawRecord)]
    kinds = [classify(r).name for r in raw]  # type: ignore[union-attr]
    assert kinds == ["ExchangeCertificate", "ReceiveConnector", "TransportService"]
    for record in raw:
        assert lines[record.source.line - 1].lstrip().startswith("<Obj ")
    certificate, connector, _ = raw
    server = certificate.get("Server")
    assert server is not None and server.value.text == "EXCAS1"
    assert '<S N="Name">EXCAS1</S>' in lines[server.line - 1]
    assert certificate.get("RootCAType").value.text == "Registry"  # type: ignore[union-attr]
    assert connector.get("Server").value.text == "EXCAS1"  # type: ignore[union-attr]  # its own property
    files = [r for r in records if isinstance(r, CertificateFile)]
    assert len(files) == 1 and files[0].thumbprint == _thumbprint(Exported(leaf.cert))
    (said,) = [r for r in records if isinstance(r, Notice)]
    assert said.message == ("HealthChecker's XML for EXCAS1: read 1 certificate, 1 receive connector, "
                            "1 transport service")


def test_the_loader_attributes_the_certificate_to_healthcheckers_server() -> None:
    evidence = load_evidence([str(FIXTURE)])
    assert not evidence.problems
    (cert,) = evidence.certificates
    assert cert.root_ca_type is RootCAType.REGISTRY
    assert cert.server is not None and cert.server.name == "EXCAS1"
    assert cert.server.basis is ServerBasis.SERVER_PROPERTY
    (connector,) = evidence.receive_connectors
    assert connector.server is not None and connector.server.name == "EXCAS1"
    (transport,) = evidence.transport_services
    assert transport.internal_transport_certificate_thumbprint == cert.thumbprint


def _estate(tmp_path: Path, form: str, item: Exported) -> Path:
    target = tmp_path / form
    shutil.copytree(CASES / "founding-incident", target)
    (target / "excas1" / "Get-ExchangeCertificate.txt").unlink()
    facts = certificate_facts(item.cert, source=Source(path="x"), label="x")
    if form == "healthchecker":  # -Encoding utf8 in Windows PowerShell: UTF-8 with a byte order mark
        (target / "HealthChecker-EXCAS1-201602200900.xml").write_bytes(
            b"\xef\xbb\xbf" + excas1_healthchecker(item).encode("utf-8"))
    else:
        folder = target / "excas1"
        (folder / "Get-ExchangeCertificate.txt").write_text(format_list(format_list_record(item)))
        connector = frontend_connector(f"<I>{facts.issuer}<S>{facts.subject}")
        (folder / "Get-ReceiveConnector.txt").write_text(format_list(connector_format_list(connector)))
        (folder / "Get-TransportService.txt").write_text(format_list(
            {"Name": "EXCAS1", "InternalTransportCertificateThumbprint": facts.thumbprint}))
        (folder / "owa.cer").write_bytes(item.cert.public_bytes(Encoding.DER))
    return target


@pytest.mark.parametrize("root_ca_type", [3, 1])
def test_healthchecker_gives_the_diagnosis_of_its_format_list_twin(tmp_path: Path, root_ca_type: int) -> None:
    """The founding incident with EXCAS1 given as HealthChecker's XML, or as Format-List of the same certificate,
    receive connector and transport service: the same findings, the root cause (RootCAType Registry) included or
    not, attributed to EXCAS1 whether the server comes from HealthChecker or from the certificate's Identity."""
    _, _, leaf = founding_chain()
    trust = founding_trust(tmp_path)
    item = Exported(leaf.cert, root_ca_type=root_ca_type, server="EXCAS1")
    as_xml = check_findings(str(_estate(tmp_path, "healthchecker", item)), *trust)
    as_text = check_findings(str(_estate(tmp_path, "format-list", item)), *trust)
    assert as_xml == as_text
    assert (("HT-ROOT-001", "EXCAS1") in as_xml) is (root_ca_type == 3)


def test_a_part_cut_short_by_depth_is_said_not_guessed() -> None:
    """Export-Clixml -Depth keeps an object too deep as its text only: no record, and the note says which."""
    _, _, leaf = founding_chain()
    text = excas1_healthchecker(Exported(leaf.cert))
    start = text.index('<Obj N="GetReceiveConnector"')
    end = text.index('<Obj N="GetTransportService"')
    text = text[:start] + '<Obj N="GetReceiveConnector" RefId="900"><ToString>System.Object[]</ToString></Obj>\r\n' \
        + text[end:]
    records = _read(text)
    kinds = [classify(r).name for r in records if isinstance(r, RawRecord)]  # type: ignore[union-attr]
    assert kinds == ["ExchangeCertificate", "TransportService"]
    (said,) = [r for r in records if isinstance(r, Notice)]
    assert "GetReceiveConnector kept only as text (cut short by Export-Clixml -Depth)" in said.message


def test_healthcheckers_own_object_exported_alone_is_read_too() -> None:
    """``$hc | Export-Clixml`` (HealthChecker's debug export) is the server object itself, at the top."""
    _, _, leaf = founding_chain()
    text = excas1_healthchecker(Exported(leaf.cert))
    start = text.index('<Obj N="HealthCheckerExchangeServer"')
    end = text.index('<Obj N="HtmlServerValues"')
    inner = text[start:end].replace(' N="HealthCheckerExchangeServer"', "", 1).rstrip()
    body = f'<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">\r\n{inner}\r\n</Objs>'
    body = re.sub(r'<TNRef RefId="0" />', '<TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
                  '<T>System.Object</T></TN>', body, count=1)
    kinds = [classify(r).name for r in _read(body) if isinstance(r, RawRecord)]  # type: ignore[union-attr]
    assert kinds == ["ExchangeCertificate", "ReceiveConnector", "TransportService"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_damaged_healthchecker_xml_raises_only_evidence_error(data: st.DataObject) -> None:
    text = FIXTURE.read_bytes().decode("utf-8-sig")
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text) - 1))
        text = text[:at] + data.draw(st.sampled_from(
            ["<", ">", "&", '"', "", "x", "</Obj>", "<Obj>", "<LST>", "<Ref RefId=\"1\" />", "A"])) + text[at + 1:]
    try:
        list(read_records(EvidenceFile("x.xml", text.encode("utf-8"))))
    except EvidenceError:
        pass


def test_a_certificate_whose_nested_values_were_cut_to_text_keeps_its_root_ca_type(tmp_path: Path) -> None:
    """HealthChecker's own objects do not use up -Depth (a PSCustomObject's note properties are written at the depth
    of their object), an Exchange certificate's properties do: its CertificateDomains may be kept as its type's name
    only. RootCAType, Status and Services are in SerializationData, which is never cut; the type name is said."""
    _, _, leaf = founding_chain()
    text = excas1_healthchecker(Exported(leaf.cert))
    start = text.index('<Obj N="CertificateDomains"')
    end = text.index("</Obj>", start) + len("</Obj>")
    text = (text[:start] + '<S N="CertificateDomains">System.Collections.ObjectModel.ReadOnlyCollection`1'
            '[Microsoft.Exchange.Data.SmtpDomainWithSubdomains]</S>' + text[end:])
    path = tmp_path / "HealthChecker-EXCAS1-201602200900.xml"
    path.write_text(text, encoding="utf-8")
    evidence = load_evidence([str(path)])
    (cert,) = evidence.certificates
    assert cert.root_ca_type is RootCAType.REGISTRY and cert.server is not None and cert.server.name == "EXCAS1"
    assert any("a type name, not a value" in n.message for n in evidence.notices)
