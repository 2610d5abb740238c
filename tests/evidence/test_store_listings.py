"""Certificate store listings are their own evidence: Get-ChildItem Cert:\\ (Format-List, tables, CSV, JSON,
-Recurse), certutil -store blocks and reg query keys become StoreCertificate records, with the store and how much of
it the listing shows; never Exchange certificates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certutil import CertutilReader, read_certutil
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.raw import RawRecord
from hybridtls.evidence.registry import reader_for
from hybridtls.evidence.regquery import RegistryStoreReader
from hybridtls.model import EvidenceSet, StoreBasis, StoreView

FIXTURES = Path(__file__).parent.parent / "fixtures" / "stores"
ROOT = "3E1F0A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5D4E3F"
ROOT_NAME = "CN=Fabrikam Trust Root R1, O=Fabrikam Trust Ltd, C=GB"

FL_STAR = f"""PS C:\\> Get-ChildItem Cert:\\LocalMachine\\AuthRoot | Format-List *


PSPath                   : Microsoft.PowerShell.Security\\Certificate::LocalMachine\\AuthRoot\\{ROOT}
PSParentPath             : Microsoft.PowerShell.Security\\Certificate::LocalMachine\\AuthRoot
PSChildName              : {ROOT}
PSDrive                  : Cert
PSProvider               : Microsoft.PowerShell.Security\\Certificate
PSIsContainer            : False
EnhancedKeyUsageList     : {{Server Authentication (1.3.6.1.5.5.7.3.1), Client Authentication (1.3.6.1.5.5.7.3.2)}}
DnsNameList              : {{Fabrikam Trust Root R1}}
SendAsTrustedIssuer      : False
Archived                 : False
Extensions               : {{System.Security.Cryptography.Oid, System.Security.Cryptography.Oid}}
FriendlyName             : Fabrikam Root
HasPrivateKey            : False
PrivateKey               :
NotAfter                 : 3/14/2044 10:00:00 AM
NotBefore                : 3/14/2024 10:00:00 AM
SerialNumber             : 5C2F1B6D8E4A7390A1B2C3D4E5F60718
Thumbprint               : {ROOT}
Version                  : 3
Issuer                   : {ROOT_NAME}
Subject                  : {ROOT_NAME}

"""


def read(tmp_path: Path, text: str, name: str = "listing.txt", server: str = "EXCAS1") -> EvidenceSet:
    folder = tmp_path / server
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return load_evidence([str(folder / name)])


# ---------------------------------------------------------------- never an Exchange certificate


def test_a_root_store_listing_is_not_an_exchange_certificate_without_a_private_key(tmp_path: Path) -> None:
    """The regression: `| Format-List *` of a root CA read as Get-ExchangeCertificate fired 'no private key'."""
    (tmp_path / "EXCAS1").mkdir()
    (tmp_path / "EXCAS1" / "authroot.txt").write_text(FL_STAR, encoding="utf-8")
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-30", "--fail-on", "never")
    document = json.loads(run.out)
    assert document["records"]["certificates"] == []
    assert "HT-CERT-004" not in {f["check_id"] for f in document["findings"]}
    [listed] = document["records"]["store_certificates"]
    assert (listed["store"], listed["thumbprint"], listed["server"]["name"]) == ("AuthRoot", ROOT, "EXCAS1")


@pytest.mark.parametrize("text", [
    # Get-ExchangeCertificate | Format-List * has the X509 properties too, and RootCAType: Exchange's
    FL_STAR.replace("Get-ChildItem Cert:\\LocalMachine\\AuthRoot", "Get-ExchangeCertificate")
    .replace("PSPath ", "RootCAType : Registry\nPSPath ").replace("PSChildName ", "Services : SMTP\nPSChildName "),
    # a bare selection under Get-ExchangeCertificate's prompt stays Exchange's, as before
    f"[PS] C:\\>Get-ExchangeCertificate | fl Thumbprint,Subject,HasPrivateKey\n\nThumbprint : {ROOT}\n"
    f"Subject : {ROOT_NAME}\nHasPrivateKey : False\n",
])
def test_what_only_exchange_reports_keeps_a_record_exchange_s(tmp_path: Path, text: str) -> None:
    evidence = read(tmp_path, text)
    assert [c.thumbprint for c in evidence.certificates] == [ROOT]
    assert evidence.store_certificates == ()


def test_a_store_listing_under_a_cert_drive_command_is_a_store_listing_whatever_its_properties(tmp_path: Path) -> None:
    text = f"PS C:\\> dir cert:\\localmachine\\ca | fl Thumbprint,Subject,HasPrivateKey\n\nThumbprint : {ROOT}\n" \
           f"Subject : {ROOT_NAME}\nHasPrivateKey : False\n"
    evidence = read(tmp_path, text)
    assert evidence.certificates == ()
    [listed] = evidence.store_certificates
    assert (listed.store, listed.view, listed.store_basis, listed.location) == (
        "CA", StoreView.LOGICAL, StoreBasis.COMMAND_LINE, "LocalMachine\\CA")


# ---------------------------------------------------------------- every form names its store


def _listed(evidence: EvidenceSet) -> set[tuple[str | None, str | None, str | None, StoreView | None, StoreBasis | None]]:
    return {(c.server.name if c.server else None, c.store, c.thumbprint, c.view, c.store_basis)
            for c in evidence.store_certificates}


def test_the_founding_estate_as_listed(tmp_path: Path) -> None:
    evidence = load_evidence([str(FIXTURES)])
    listed = _listed(evidence)
    logical, header, command = StoreView.LOGICAL, StoreBasis.TABLE_HEADER, StoreBasis.COMMAND_LINE
    assert {entry for entry in listed if entry[2] == ROOT} == {
        ("EXCAS1", "Root", ROOT, logical, command),  # Format-List, default view: the store from the command line
        ("EXCAS1", "Root", ROOT, StoreView.REGISTRY, StoreBasis.CERTUTIL_HEADER),  # certutil -store Root
        ("EXMBX1", "AuthRoot", ROOT, StoreView.REGISTRY, StoreBasis.REGISTRY_KEY),  # reg query
        ("EXMBX1", "AuthRoot", ROOT, logical, header),  # -Recurse: each store under its header
        ("EXMBX1", "Root", ROOT, logical, header),
    }
    assert ("EXMBX1", "CA", "9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B", logical, header) in listed
    assert ("EXCAS1", "CA", "1F4C2B7D9E0A3C5F7B1D3E5A7C9F0B2D4E6A8C1E", logical, StoreBasis.PS_PATH) in listed  # CSV
    assert len(evidence.certificates) == 4  # the two Get-ExchangeCertificate listings only
    # the store names of -Recurse are not certificates: skipped, not misread
    assert {s.properties for s in evidence.skipped} == {("Name", "PSParentPath")}


def test_certutil_dates_names_and_hash(tmp_path: Path) -> None:
    evidence = load_evidence([str(FIXTURES / "EXCAS1" / "certutil-store-root.txt")])
    fabrikam = next(c for c in evidence.store_certificates if c.thumbprint == ROOT)
    assert (fabrikam.subject, fabrikam.issuer, fabrikam.serial_number, fabrikam.is_self_signed) == (
        ROOT_NAME, ROOT_NAME, "5C2F1B6D8E4A7390A1B2C3D4E5F60718", True)
    assert (fabrikam.not_before.isoformat(), fabrikam.not_after.isoformat()) == (  # type: ignore[union-attr]
        "2024-03-14T10:00:00", "2044-03-14T10:00:00")
    assert fabrikam.cite("subject").line == 21 and fabrikam.source.line == 16


def test_a_json_listing(tmp_path: Path) -> None:
    document = [{"PSPath": f"Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Root\\{ROOT}",
                 "PSParentPath": "Microsoft.PowerShell.Security\\Certificate::LocalMachine\\Root",
                 "PSChildName": ROOT, "Thumbprint": ROOT, "Subject": ROOT_NAME, "Issuer": ROOT_NAME,
                 "NotAfter": "/Date(2341562400000)/", "HasPrivateKey": False,
                 "Extensions": [{"Critical": True, "Oid": {"Value": "2.5.29.19", "FriendlyName": "Basic Constraints"}}]}]
    evidence = read(tmp_path, json.dumps(document, indent=2), "root.json")
    [listed] = evidence.store_certificates
    assert (listed.store, listed.view, listed.store_basis, listed.not_after.year) == (  # type: ignore[union-attr]
        "Root", StoreView.LOGICAL, StoreBasis.PS_PATH, 2044)
    assert evidence.certificates == ()


@pytest.mark.parametrize(("command", "view", "store"), [
    ("certutil -store Root", StoreView.REGISTRY, "Root"),
    ("certutil -enterprise -store Root", StoreView.ENTERPRISE, "Root"),
    ("certutil -store -grouppolicy root", StoreView.GROUP_POLICY, "Root"),
    ("certutil -v -store AuthRoot", StoreView.REGISTRY, "AuthRoot"),
    (None, None, "Root"),  # without the command line, which physical store is not known
])
def test_certutil_s_physical_store_comes_from_its_command_line(tmp_path: Path, command: str | None,
                                                               view: StoreView | None, store: str) -> None:
    text = (FIXTURES / "EXCAS1" / "certutil-store-root.txt").read_text(encoding="utf-8")
    text = text.replace("certutil -store Root", command) if command else text.split("\n", 1)[1]
    if command and "AuthRoot" in command:
        text = text.replace('Root "Trusted Root Certification Authorities"',
                            'AuthRoot "Third-Party Root Certification Authorities"')
    evidence = read(tmp_path, text)
    assert {(c.store, c.view) for c in evidence.store_certificates} == {(store, view)}


@pytest.mark.parametrize(("key", "store", "view"), [
    ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\ROOT\\Certificates", "Root", StoreView.REGISTRY),
    ("HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\Root\\Certificates", "Root", StoreView.GROUP_POLICY),
    ("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\EnterpriseCertificates\\Root\\Certificates", "Root",
     StoreView.ENTERPRISE),
    ("[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SystemCertificates\\AuthRoot\\Certificates", "AuthRoot",
     StoreView.REGISTRY),
])
def test_a_registry_key_names_its_physical_store(tmp_path: Path, key: str, store: str, view: StoreView) -> None:
    closing = "]" if key.startswith("[") else ""
    text = f"{key}{closing}\n\n{key}\\{ROOT.lower()}{closing}\n    Blob    REG_BINARY    5C0000000100000004000000\n"
    evidence = read(tmp_path, text)
    assert _listed(evidence) == {("EXCAS1", store, ROOT, view, StoreBasis.REGISTRY_KEY)}


def test_a_transcript_mixing_certutil_and_cmdlet_output_reads_both(tmp_path: Path) -> None:
    certutil = (FIXTURES / "EXCAS1" / "certutil-store-root.txt").read_text(encoding="utf-8")
    exchange = (FIXTURES / "EXCAS1" / "Get-ExchangeCertificate.txt").read_text(encoding="utf-8")
    evidence = read(tmp_path, exchange + "\r\n" + certutil + "\r\n" + exchange.replace("EXCAS1", "EXCAS2"))
    assert len(evidence.store_certificates) == 2
    assert sorted({c.server.name for c in evidence.certificates if c.server}) == ["EXCAS1", "EXCAS2"]
    lines = {c.source.line for c in evidence.certificates}
    assert min(lines) == 4 and max(lines) > 60  # line numbers are the file's, after the certutil blocks too


# ---------------------------------------------------------------- certutil: generated blocks, arbitrary text

_WORDS = r"[A-Za-z0-9.\-](?:[A-Za-z0-9 .\-]{0,28}[A-Za-z0-9.\-])?"  # as Windows prints them: no space at either end
_NAME = st.from_regex(rf"CN={_WORDS}(, O={_WORDS})?(, C=[A-Z]{{2}})?", fullmatch=True)
_BLOCK = st.fixed_dictionaries({
    "serial": st.binary(min_size=1, max_size=20).map(bytes.hex),
    "issuer": _NAME, "subject": _NAME,
    "hash": st.binary(min_size=20, max_size=20).map(bytes.hex),
    "spaced": st.booleans(),
    "extra": st.lists(st.sampled_from(["Signature matches Public Key", "Root Certificate: Subject matches Issuer",
                                       "No key provider information", "Template: ", "  Key Container = x",
                                       "Non-root Certificate", ""]), max_size=4),
})


def _certutil_text(store: str, blocks: list[dict[str, object]]) -> str:
    lines = [f"C:\\>certutil -store {store}", f'{store} "Some Store Title"']
    for index, block in enumerate(blocks):
        digest = str(block["hash"])
        if block["spaced"]:
            digest = " ".join(re.findall("..", digest))
        lines += [f"================ Certificate {index} ================", f"Serial Number: {block['serial']}",
                  f"Issuer: {block['issuer']}", " NotBefore: 1/19/2020 12:00 AM", " NotAfter: 1/18/2038 11:59 PM",
                  f"Subject: {block['subject']}", *block["extra"], f"Cert Hash(sha1): {digest}"]  # type: ignore[misc]
    lines.append("CertUtil: -store command completed successfully.")
    return "\r\n".join(lines) + "\r\n"


@given(store=st.sampled_from(["Root", "AuthRoot", "CA", "My"]), blocks=st.lists(_BLOCK, min_size=1, max_size=6))
def test_generated_certutil_blocks_read_back(store: str, blocks: list[dict[str, object]]) -> None:
    records = [r for r in read_certutil(_certutil_text(store, blocks), "c.txt") if isinstance(r, RawRecord)]
    assert len(records) == len(blocks)
    for record, block in zip(records, blocks, strict=True):
        assert record.get("Subject").value.text == block["subject"]  # type: ignore[union-attr]
        assert record.get("Issuer").value.text == block["issuer"]  # type: ignore[union-attr]
        digest = record.get("Cert Hash(sha1)").value.text  # type: ignore[union-attr]
        assert digest.replace(" ", "") == block["hash"]
        assert record.get("Store").value.text.startswith(store)  # type: ignore[union-attr]
        assert record.command == f"certutil -store {store}"


@given(st.text(alphabet=st.sampled_from(list("=Certificat 0123\r\n:\"Subject:Cert Hash(sha1)ab>C:\\")) |
               st.characters(), max_size=400))
def test_arbitrary_text_raises_nothing_but_evidence_error(text: str) -> None:
    for reader in (CertutilReader(), RegistryStoreReader()):
        file = EvidenceFile("x.txt", text.encode("utf-8", "surrogatepass"))
        try:
            list(reader.read(file))
        except EvidenceError as exc:
            assert exc.path == "x.txt" and "\n" not in exc.message


@given(st.text(max_size=200))
def test_any_text_under_a_certutil_marker_raises_nothing_but_evidence_error(tail: str) -> None:
    text = "================ Certificate 0 ================\n" + tail
    file = EvidenceFile("x.txt", text.encode("utf-8", "surrogatepass"))
    try:
        reader = reader_for(file)  # text that is not text (control characters) is refused before any reader
        assert isinstance(reader, CertutilReader)
        list(reader.read(file))
    except EvidenceError as exc:
        assert exc.path == "x.txt"


@pytest.mark.parametrize("line", [
    "Subject: CN=x" + " " * 400_000 + "y",  # a value that is spaces but for its last character
    "= Certificate " * 60_000,  # the marker's words again and again on one line
    "   PSParentPath: " + " x" * 200_000,
])
def test_a_hostile_line_is_read_in_linear_time(tmp_path: Path, line: str) -> None:
    import time

    text = "================ Certificate 0 ================\n" + line + "\nCert Hash(sha1): " + "ab" * 20 + "\n"
    started = time.perf_counter()
    for body in (text, line + "\n" + text):
        file = EvidenceFile("x.txt", body.encode())
        list(reader_for(file).read(file))
    assert time.perf_counter() - started < 5
