"""certutil -verify chain dumps become ChainVerification records (each element's CERT_TRUST_* bits, the verdict);
certutil -verifyctl AuthRoot and reg query of the AuthRoot keys become RootUpdateState records. Arbitrary text
raises only EvidenceError."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import judge, triples
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certverify import (
    ERROR_BITS,
    ChainDumpReader,
    RootUpdateReader,
    read_chain_dumps,
    read_root_update_state,
)
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.registry import reader_for
from hybridtls.model import ChainVerification, Notice, RootUpdateState
from hybridtls.model import verify as bits

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXCAS1 = FIXTURES / "stores" / "EXCAS1"
EXEDGE1 = FIXTURES / "rootupdate" / "EXEDGE1"
NOW = "2026-11-30T09:00:00"


def _file(path: Path) -> EvidenceFile:
    return EvidenceFile(str(path), path.read_bytes())


def test_a_partial_chain_as_certutil_printed_it() -> None:
    file = _file(EXCAS1 / "certutil-verify.txt")
    assert isinstance(reader_for(file), ChainDumpReader)
    [dump] = [r for r in read_chain_dumps(file.text, file.display) if isinstance(r, ChainVerification)]
    assert dump.command == "certutil -verify -urlfetch C:\\certs\\mail.contoso.com.cer"
    assert dump.source.line == 23 and dump.cite("verdict").line == 72
    assert dump.chain_errors == (bits.REVOCATION_UNKNOWN, bits.PARTIAL_CHAIN, bits.OFFLINE_REVOCATION)
    [leaf] = dump.elements
    assert (leaf.subject, leaf.thumbprint, leaf.serial_number) == (
        "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US", "7D1E5A3C9B2F4E6D8A0C1B3E5F7A9C2D4E6F8A0B",
        "0c4f8e2a7b19d3365e80a1f2b4c6d8e0")
    assert leaf.errors == (bits.REVOCATION_UNKNOWN, bits.OFFLINE_REVOCATION)  # from the mask and the Element. lines
    assert dump.root is None  # a partial chain ends below its root
    assert (dump.failed, dump.error_code, dump.error_name) == (True, "0x800b010a", "CERT_E_CHAINING")
    assert dump.revocation_passed is None


def _dump(elements: list[tuple[str, str, int, int]], verdict: str, chain: str = "0") -> str:
    """A chain dump as certutil prints it: (subject, issuer, info mask, error mask) per element."""
    lines = ["C:\\>certutil -verify -urlfetch leaf.cer", "-------- CERT_CHAIN_CONTEXT --------"]
    for index, (subject, issuer, info, error) in enumerate(elements):
        lines += [f"CertContext[{chain}][{index}]: dwInfoStatus={info:x} dwErrorStatus={error:x}",
                  f"  Issuer: {issuer}", "  NotBefore: 1/1/2026 12:00 AM", f"  Subject: {subject}",
                  f"  Serial: {index:02x}ab", f"  Cert: {index:x}" + "0" * 39, ""]
    return "\n".join([*lines, verdict, ""])


def test_an_untrusted_root_and_a_second_dump_in_one_file() -> None:
    untrusted = _dump([("CN=leaf", "CN=Root", 0x2, 0x20), ("CN=Root", "CN=Root", 0xC, 0x20)],
                      "CertUtil: -verify command FAILED: 0x800b0109 (-2146762487 CERT_E_UNTRUSTEDROOT)")
    fine = _dump([("CN=other", "CN=Root", 0x2, 0)], "Leaf certificate revocation check passed\n"
                 "CertUtil: -verify command completed successfully.")
    first, second = read_chain_dumps(untrusted + fine, "v.txt")
    assert isinstance(first, ChainVerification) and isinstance(second, ChainVerification)
    assert first.root is not None and first.root.subject == "CN=Root" and first.root.thumbprint == "1" + "0" * 39
    assert first.errors == (bits.UNTRUSTED_ROOT,) and first.error_name == "CERT_E_UNTRUSTEDROOT"
    assert (second.failed, second.revocation_passed, second.errors) == (False, True, ())


def test_only_the_first_simple_chain_is_kept() -> None:
    text = _dump([("CN=leaf", "CN=CA", 0, 0)], "").replace("\n\n", "\nCertContext[1][0]: dwInfoStatus=0 "
                                                            "dwErrorStatus=20\n  Subject: CN=elsewhere\n\n", 1)
    [dump] = read_chain_dumps(text, "v.txt")
    assert isinstance(dump, ChainVerification)
    assert [e.subject for e in dump.elements] == ["CN=leaf"] and dump.errors == ()


def test_a_dump_without_a_chain_is_refused_with_its_file() -> None:
    with pytest.raises(EvidenceError, match="no certificate chain") as raised:
        list(read_chain_dumps("-------- CERT_CHAIN_CONTEXT --------\nCertUtil: -verify command completed successfully.",
                              "v.txt"))
    assert raised.value.path == "v.txt"


_SUBJECT = st.text(alphabet=st.sampled_from(list("CN=abcXYZ ,.-0123")), min_size=1, max_size=30).map(
    lambda s: "CN=" + s.strip() + "x")
_MASK = st.sets(st.sampled_from(sorted(ERROR_BITS))).map(sum)


@given(st.lists(st.tuples(_SUBJECT, _SUBJECT, st.integers(0, 0x10F), _MASK), min_size=1, max_size=6),
       st.sampled_from(["CertUtil: -verify command completed successfully.",
                        "CertUtil: -verify command FAILED: 0x800b010a (-2146762486 CERT_E_CHAINING)"]))
def test_generated_dumps_read_back(elements: list[tuple[str, str, int, int]], verdict: str) -> None:
    [dump] = read_chain_dumps(_dump(elements, verdict), "v.txt")
    assert isinstance(dump, ChainVerification)
    assert [(e.subject, e.issuer) for e in dump.elements] == [(s, i) for s, i, _, _ in elements]
    for element, (_, _, _, error) in zip(dump.elements, elements):
        assert set(element.errors) == {name for bit, name in ERROR_BITS.items() if error & bit}
    assert dump.failed is ("FAILED" in verdict)


@given(st.text(alphabet=st.sampled_from(list("CERT_CHAIN_CONTEXT-CertContext[0]: dwInfoStatus=1f dwErrorStatus= "
                                             "\nSubject:Cert: LastSyncTime REG_BINARY DisableRootAutoUpdate 0x1")),
               max_size=400) | st.text(max_size=200))
def test_arbitrary_text_raises_only_evidence_error(text: str) -> None:
    for read in (read_chain_dumps, read_root_update_state):
        try:
            list(read(text, "x.txt"))
        except EvidenceError:
            pass


def test_authroot_state_from_the_registry_and_certutil() -> None:
    policy = _file(EXEDGE1 / "reg-query-authroot-policy.txt")
    assert isinstance(reader_for(policy), RootUpdateReader)
    [state] = read_root_update_state(policy.text, policy.display)
    assert isinstance(state, RootUpdateState)
    assert state.auto_update_disabled is True and state.cite("auto_update_disabled").line == 4
    assert state.last_sync == datetime(2025, 8, 19, 6, 41, 27)  # FILETIME, UTC
    ctl = _file(EXEDGE1 / "authroot-lastsync.txt")
    [state] = read_root_update_state(ctl.text, ctl.display)
    assert isinstance(state, RootUpdateState) and state.last_sync == datetime(2025, 8, 19, 6, 41)


def test_an_ambiguous_sync_time_takes_the_later_reading_and_says_so() -> None:
    notice, state = read_root_update_state("  LastSyncTime: 2/11/2025 6:41 AM\n  SequenceNumber: 1f 2a\n", "ctl.txt")
    assert isinstance(notice, Notice) and "either way" in notice.message
    assert isinstance(state, RootUpdateState)
    assert (state.last_sync, state.sequence_number) == (datetime(2025, 11, 2, 6, 41), "1F2A")


def test_the_estate_that_manages_its_roots_by_hand() -> None:
    evidence = load_evidence([str(EXEDGE1)])
    assert len(evidence.root_update_states) == 2 and not evidence.certificates
    _, findings = judge(EXEDGE1, now=NOW)
    assert triples(findings, "HT-STORE") == {("HT-STORE-008", "EXEDGE1", "warning"),
                                             ("HT-STORE-009", "EXEDGE1", "error")}
    [g2] = [f for f in findings if f.check_id == "HT-STORE-009"]
    assert "Its Root listing does not hold DigiCert Global Root G2 (DF3C24F9BFD666761B268073FE06D1CC8D4F82A4)" \
        in g2.message
    assert "Import-Certificate -FilePath $file -CertStoreLocation Cert:\\LocalMachine\\AuthRoot" in g2.remediation
    _, before = judge(EXEDGE1, now="2026-02-01T00:00:00")  # before Exchange Online's move: a warning
    assert ("HT-STORE-009", "EXEDGE1", "warning") in triples(before, "HT-STORE")


def test_a_server_with_the_root_is_ready(tmp_path: Path) -> None:
    folder = tmp_path / "EXEDGE1"
    folder.mkdir()
    for path in EXEDGE1.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    root = folder / "Root.txt"
    root.write_text(root.read_text().replace("D69B561148F01C77C54578C10926DF5B856976AD",
                                             "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4"))
    _, findings = judge(folder, now=NOW)
    assert triples(findings, "HT-STORE") == {("HT-STORE-008", "EXEDGE1", "warning")}


def test_a_transcript_keeps_what_other_commands_printed(tmp_path: Path) -> None:
    """certutil's output and Get-ExchangeCertificate's in one transcript: both are read."""
    exchange = (EXCAS1 / "Get-ExchangeCertificate.txt").read_text()
    folder = tmp_path / "EXCAS1"
    folder.mkdir()
    (folder / "transcript.txt").write_text((EXCAS1 / "certutil-verify.txt").read_text() + "\n" + exchange)
    (folder / "authroot.txt").write_text("PS C:\\> Get-ItemProperty HKLM:\\SOFTWARE\\Policies\\Microsoft\\"
                                         "SystemCertificates\\AuthRoot | Format-List\n\nDisableRootAutoUpdate : 1\n"
                                         "PSChildName           : AuthRoot\n\n" + exchange)
    evidence = load_evidence([str(folder)])
    assert len(evidence.chain_verifications) == 1
    assert [s.auto_update_disabled for s in evidence.root_update_states] == [True]
    assert len(evidence.certificates) == 4  # two certificates, from each file


def test_a_mention_in_prose_is_not_a_state() -> None:
    text = "HealthChecker: DisableRootAutoUpdate is set; check LastSyncTime on each server.\n"
    assert not RootUpdateReader().recognises(EvidenceFile("hc.txt", text.encode()))
    [notice, state] = read_root_update_state("LastSyncTime : {128, 69, 181}\nDisableRootAutoUpdate : 0\n", "p.txt")
    assert isinstance(notice, Notice) and "not a date" in notice.message
    assert isinstance(state, RootUpdateState) and state.auto_update_disabled is False and state.last_sync is None


def test_a_trusted_chain_up_to_g2_is_proof_of_readiness(tmp_path: Path) -> None:
    folder = tmp_path / "EXEDGE1"
    folder.mkdir()
    for path in EXEDGE1.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    g2 = "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US"
    dump = _dump([("CN=mail.protection.outlook.com", "CN=Some G2 TLS CA", 0x102, 0), ("CN=Some G2 TLS CA", g2, 0x102, 0),
                  (g2, g2, 0x10C, 0)], "CertUtil: -verify command completed successfully.")
    (folder / "certutil-verify-exo.txt").write_text(dump.replace("  Cert: 2" + "0" * 39,
                                                                 "  Cert: df3c24f9bfd666761b268073fe06d1cc8d4f82a4"))
    _, findings = judge(folder, now=NOW)
    assert triples(findings, "HT-STORE") == {("HT-STORE-008", "EXEDGE1", "warning")}
