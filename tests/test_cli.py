from __future__ import annotations

import codecs
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import CASES, FIXTURES, certificate, format_list, run_cli

from hybridtls.checks import CheckContext, run_checks
from hybridtls.checks.base import Check
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import CheckStatus, Severity


def finding_ids(output: str) -> set[tuple[str, str | None]]:
    return {(f["check_id"], f["server"]) for f in json.loads(output)["findings"]}


FOUNDING = {("HT-ROOT-001", "excas1"), ("HT-TRACE-001", None), ("HT-TRACE-002", None)}


def test_founding_case_json() -> None:
    run = run_cli("check", str(CASES / "founding-incident"), "--format", "json", "--now", "2016-02-20")
    assert run.code == 1
    assert finding_ids(run.out) == FOUNDING
    # the ambiguous certificate dates were read with the order the trace file proves, and the run says so
    assert "read as day-first" in run.err


def test_after_fix_twin_has_no_root_cause() -> None:
    run = run_cli("check", str(CASES / "founding-incident-after-fix"), "--format", "json", "--now", "2016-02-20")
    assert finding_ids(run.out) == {("HT-TRACE-001", None), ("HT-TRACE-002", None)}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-8-sig"])
def test_founding_case_in_other_encodings(tmp_path: Path, codec: str) -> None:
    boms = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-8-sig": b""}
    target = tmp_path / "case"
    shutil.copytree(CASES / "founding-incident", target)
    for path in target.rglob("*.txt"):
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        path.write_bytes(boms[codec] + text.encode(codec))
    run = run_cli("check", str(target), "--format", "json", "--now", "2016-02-20")
    assert finding_ids(run.out) == FOUNDING


def test_variant_more_servers_us_dates_extra_properties_and_wrapping(tmp_path: Path) -> None:
    issuer = "CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, L=Salford, S=Greater Manchester, C=GB"
    thumb = "9F3C2B1A0E9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B"
    for server, root in [("CAS01", "Registry"), ("CAS02", "Registry"), ("MBX01", "ThirdParty"), ("MBX02", "ThirdParty")]:
        record = certificate(Identity=f"{server}.contoso.com\\{thumb}", Thumbprint=thumb, Issuer=issuer,
                             Subject="CN=mail.contoso.com", RootCAType=root, NotBefore="3/2/2026 9:00:00 AM",
                             NotAfter="3/2/2027 8:59:59 AM")
        text = format_list(record)
        # wrap the long Issuer the way a narrow console does
        text = text.replace(", S=Greater", ",\n                     S=Greater")
        (tmp_path / f"{server.lower()}.txt").write_text(text, encoding="utf-16")
    (tmp_path / "trace.txt").write_text(format_list({
        "Received": "3/13/2026 4:05:00 PM", "SenderAddress": "a@contoso.com", "RecipientAddress": "b@contoso.com",
        "Status": "Pending", "MessageId": "<X@AM0PR01MB1234.eurprd01.prod.outlook.com>"}))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-03-14")
    document = json.loads(run.out)
    assert finding_ids(run.out) == {("HT-ROOT-001", "CAS01.contoso.com"), ("HT-ROOT-001", "CAS02.contoso.com"),
                                    ("HT-TRACE-001", None), ("HT-TRACE-002", None)}
    root = next(f for f in document["findings"] if f["server"] == "CAS01.contoso.com")
    assert issuer in root["message"]  # the wrapped Issuer was rejoined whole
    assert f"Get-Item Cert:\\LocalMachine\\My\\{thumb}" in root["remediation"]
    # 3/2/2026 alone is ambiguous; the trace's 3/13/2026 proves month-first, and each certificate file says so
    notes = document["records"]["notices"]
    assert sorted(Path(n["source"]["path"]).name for n in notes) == ["cas01.txt", "cas02.txt", "mbx01.txt", "mbx02.txt"]
    assert all("read as month-first" in n["message"] for n in notes)


def test_healthy_estate_exits_zero(tmp_path: Path) -> None:
    for server in ("ex1", "ex2"):
        (tmp_path / server).mkdir()
        (tmp_path / server / "certs.txt").write_text(format_list(certificate()))
    run = run_cli("check", str(tmp_path), "--now", "2029-06-01")
    assert run.code == 0, run.out
    assert "PASS" in run.out and run.err == ""


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("binary.txt", b"\x00\x01\x02\x03\x04" * 50, "binary.txt:1: binary data (a NUL byte at offset 0)"),
        ("empty.txt", b"", "empty.txt: the file is empty"),
        ("cut.json", b'[{"Thumbprint": "AB", "Services": ', "cut.json:1: not valid JSON"),
        ("notes.txt", b"I think the certificate is broken, please help\n", "notes.txt: no PowerShell output found"),
        ("data.xml", b"<Objs Version=\"1.1.0.1\"></Objs>", "data.xml: CliXML with no objects"),
    ],
)
def test_bad_input_alone_is_one_line_and_exit_2(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    run = run_cli("check", str(path))
    assert run.code == 2
    first = run.err.splitlines()[0]
    assert first.startswith("hybridtls: error: ") and expected in first
    assert "Traceback" not in run.err
    assert run.out == ""


def test_bad_file_beside_good_evidence_still_yields_every_finding(tmp_path: Path) -> None:
    shutil.copytree(CASES / "founding-incident", tmp_path / "case")
    (tmp_path / "case" / "excas1" / "broken.json").write_bytes(b"{\"Thumbprint\": ")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "case").rglob("*") if p.is_file()}
    run = run_cli("check", str(tmp_path / "case"), "--format", "json", "--now", "2016-02-20", "--fail-on", "never")
    assert run.code == 1  # a file could not be read: never exit 0 after an error
    assert finding_ids(run.out) == FOUNDING
    assert json.loads(run.out)["records"]["problems"][0]["source"]["path"].endswith("broken.json")
    assert "broken.json:1: not valid JSON" in run.err
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "case").rglob("*") if p.is_file()}
    assert before == after  # input files are never modified


def test_output_refuses_to_overwrite_evidence(tmp_path: Path) -> None:
    shutil.copytree(CASES / "founding-incident", tmp_path / "case")
    victim = tmp_path / "case" / "excas1" / "Get-ExchangeCertificate.txt"
    original = victim.read_bytes()
    run = run_cli("check", str(tmp_path / "case"), "--output", str(victim))
    assert run.code == 2 and "is one of the files this run reads" in run.err
    assert victim.read_bytes() == original


@pytest.mark.parametrize("command", ["check", "plan"])
def test_output_never_overwrites_a_trust_bundle_or_an_intermediates_file(tmp_path: Path, command: str) -> None:
    bundle = tmp_path / "bundle.pem"
    shutil.copy(FIXTURES / "plan" / "renewal-root.pem", bundle)
    original = bundle.read_bytes()
    evidence = [str(CASES / "founding-incident")]
    argv = ["--new-cert", str(FIXTURES / "plan" / "renewal.pem"), *evidence] if command == "plan" else evidence
    for option in ("--trust", "--intermediates"):
        run = run_cli(command, *argv, option, str(bundle), "--output", str(bundle))
        assert run.code == 2 and "is one of the files this run reads" in run.err, run.err
        assert bundle.read_bytes() == original


@pytest.mark.parametrize("command", ["check", "plan"])
def test_output_into_a_missing_folder_is_one_error_line(tmp_path: Path, command: str) -> None:
    target = tmp_path / "missing-dir" / "x.html"
    argv = ["--new-cert", str(FIXTURES / "plan" / "renewal.pem")] if command == "plan" else []
    run = run_cli(command, *argv, str(CASES / "founding-incident"), "--format", "html", "--output", str(target))
    assert run.code == 2 and run.out == "" and not target.exists()
    assert run.err.startswith(f"hybridtls: error: cannot write {target}: No such file or directory"), run.err
    assert "internal error" not in run.err


def test_output_is_replaced_whole(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    report.write_text("an older report\n" * 1000)
    run = run_cli("check", str(CASES / "founding-incident"), "--format", "markdown", "--output", str(report))
    assert run.code == 1 and "an older report" not in report.read_text() and "HT-ROOT-001" in report.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no temporary file left behind


def test_output_file_and_missing_path(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = run_cli("check", str(CASES / "founding-incident"), "--format", "json", "--output", str(report), "--now", "2016-02-20")
    assert run.code == 1 and run.out == ""
    assert finding_ids(report.read_text()) == FOUNDING
    run = run_cli("check", str(tmp_path / "nope"))
    assert run.code == 2 and "nope: no such file or folder" in run.err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["check"], "the following arguments are required: PATH"),
        (["check", "x", "--now", "yesterday"], "--now 'yesterday' is not a date"),
        (["check", "x", "--fail-on", "panic"], "invalid choice"),
        (["explain", "HT-NOPE-001"], "no check HT-NOPE-001"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors(argv: list[str], words: str) -> None:
    run = run_cli(*argv)
    assert run.code == 2
    assert run.err.startswith("hybridtls: error: ") and words in run.err
    assert "hint: " in run.err


def test_fail_on_levels(tmp_path: Path) -> None:
    (tmp_path / "ex1").mkdir()
    (tmp_path / "ex1" / "c.txt").write_text(format_list(certificate(NotAfter="7/10/2029 1:00:00 PM")))  # 39 days: notice
    assert run_cli("check", str(tmp_path), "--now", "2029-06-01").code == 0
    assert run_cli("check", str(tmp_path), "--now", "2029-06-01", "--fail-on", "info").code == 1


def test_hostile_evidence_is_inert_in_terminal_and_json(tmp_path: Path) -> None:
    (tmp_path / "ex1").mkdir()
    hostile = "CN=\x1b]0;pwned\x07\x1b[31m[bold red]<script>alert(1)</script>\u202e"
    (tmp_path / "ex1" / "c.txt").write_text(format_list(certificate(Subject=hostile, RootCAType="Registry")))
    run = run_cli("check", str(tmp_path), "--now", "2029-06-01")
    assert "\x1b" not in run.out and "\x07" not in run.out and "\u202e" not in run.out
    assert "\\x1b]0;pwned\\x07\\x1b[31m[bold red]<script>" in run.out  # shown, escaped, markup not interpreted
    run = run_cli("check", str(tmp_path), "--now", "2029-06-01", "--format", "json")
    assert "\x1b" not in run.out and "\\u001b]0;pwned" in run.out
    assert any(hostile in f["subject"] for f in json.loads(run.out)["findings"])


def test_a_crashing_check_is_reported_and_the_others_still_run() -> None:
    def explode(evidence, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("boom")

    broken = Check(id="HT-TEST-999", title="t", severity=Severity.ERROR, needs="", explanation="", remediation="",
                   references=(), run=explode)
    from hybridtls.checks import CHECKS

    evidence = load_evidence([str(CASES / "founding-incident")])
    from datetime import datetime

    outcomes = {o.check_id: o for o in run_checks(evidence, CheckContext(now=datetime(2016, 2, 20)), (broken, *CHECKS))}
    assert outcomes["HT-TEST-999"].status is CheckStatus.CRASHED and "KeyError" in outcomes["HT-TEST-999"].reason
    assert outcomes["HT-ROOT-001"].status is CheckStatus.FIRED


def test_explain_and_generated_docs_are_current() -> None:
    run = run_cli("explain", "ht-root-001")
    assert run.code == 0 and run.out.startswith("HT-ROOT-001  Public certificate's root")
    docs = Path(__file__).parents[1] / "docs" / "checks.md"
    generated = run_cli("explain", "--format", "markdown").out
    assert docs.read_text(encoding="utf-8") == generated, "regenerate: hybridtls explain --format markdown > docs/checks.md"


def test_old_evidence_gets_a_note_about_now(monkeypatch) -> None:
    monkeypatch.chdir(CASES)
    run = run_cli("check", "founding-incident", "--format", "json")
    notices = json.loads(run.out)["records"]["notices"]
    assert any("--now 2016-02-18" in (n["hint"] or "") for n in notices)
    assert ("HT-CERT-001", None) in finding_ids(run.out)  # expired relative to today, and said so


def test_a_saved_check_report_is_not_evidence(tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    saved.write_text(run_cli("check", str(CASES / "founding-incident"), "--format", "json").out)
    run = run_cli("check", str(saved))
    assert run.code == 2 and "holds no probe results" in run.err.splitlines()[0]


def test_the_command_line_offers_every_report_format() -> None:
    from hybridtls.cli.common import FORMATS
    from hybridtls.report.render import FORMATS as WRITTEN

    assert FORMATS == WRITTEN


def test_explain_an_error_text() -> None:
    run = run_cli("explain", "Remote server returned '450 4.4.317 Cannot connect to remote server [Message=451 5.7.3 "
                  "STARTTLS is required to send mail]'", "HT-ERR-001", "599 9.9.9 \x1b[31mnew")
    assert run.code == 0 and run.out.startswith("HT-ERR-001  Delivery errors explained")
    assert "  Means: the on-premises server did not offer STARTTLS\n" in run.out
    assert "Error text: 599 9.9.9 \\x1b[31mnew\n  Not in hybridtls's catalogue" in run.out
