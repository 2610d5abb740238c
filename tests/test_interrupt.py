"""Ctrl-C during ``probe`` or ``check`` writes the report for what was finished, marked partial, and exits 130.

Each test runs hybridtls as a real process and sends it a real SIGINT once it is known to be mid-run (the silent
server has accepted the probe's connection; the progress bar names the large file being read).
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import certificate, format_list
from jsonschema import Draft202012Validator
from processes import GUARD, SilentServer, Terminal, closed_port, start

from hybridtls.model import Interruption
from hybridtls.report.json import SCHEMA_VERSION

SCHEMA = json.loads((Path(__file__).parent.parent / "src/hybridtls/report/schema" /
                     f"report-v{SCHEMA_VERSION}.json").read_text(encoding="utf-8"))


def _interrupted_probe(fmt: str) -> tuple[int, str, str, int]:
    """A probe of a silent address (60 s per step) and a refused one, Ctrl-C once the silent one is connected."""
    refused = closed_port()
    with SilentServer() as server:
        process = start("probe", f"127.0.0.1:{server.port}", f"127.0.0.1:{refused}", "--timeout", "60",
                        "--format", fmt, "--no-sweep", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert server.accepted.wait(GUARD), "the probe never connected"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=GUARD)
    return process.returncode, out.decode(), err.decode(), server.port


def test_ctrl_c_during_a_probe_writes_the_partial_report_as_json() -> None:
    code, out, err, port = _interrupted_probe("json")
    assert code == 130, err
    document = json.loads(out)
    Draft202012Validator(SCHEMA).validate(document)
    probes = {p["port"]: p for p in document["records"]["probes"]}
    silent = probes[port]
    assert silent["outcome"] == "interrupted" and "not probed" in silent["detail"]  # never passed
    finished = [p for p in probes.values() if p["outcome"] != "interrupted"]
    assert document["partial"] == {"reason": "interrupted", "done": len(finished), "total": 2, "unit": "addresses"}
    assert all(p["outcome"] == "refused" for p in finished)  # what finished is reported as it ended
    assert document["verdict"] == "fail"
    assert f"interrupted: the report covers {len(finished)} of 2 addresses" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_ctrl_c_during_a_probe_writes_the_partial_report_on_the_terminal() -> None:
    code, out, err, port = _interrupted_probe("terminal")
    assert code == 130, err
    verdict = next(line for line in out.splitlines() if line.startswith("FAIL"))
    assert "partial: interrupted after " in verdict and " of 2 addresses" in verdict
    assert f"127.0.0.1:{port}  interrupted" in out
    assert "not probed: the run was interrupted (Ctrl-C) first" in out
    assert "Traceback" not in err


def _evidence_with_a_large_file(folder: Path) -> Path:
    """Ten small certificate files, then one large message trace (300,000 rows: seconds to read), then ten more."""
    for index in range(10):
        (folder / f"a-{index:02}").mkdir(parents=True)
        (folder / f"a-{index:02}" / "Get-ExchangeCertificate.txt").write_text(format_list(certificate()))
    rows = ['#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace',
            '"Received","SenderAddress","RecipientAddress","Subject","Status","MessageTraceId"']
    rows += [f'"2/18/2026 11:23:45 AM","a@contoso.com","b@contoso.com","hello","Delivered","{index:08}-0000-0000-0000-'
             f'000000000000"' for index in range(300_000)]
    (folder / "b").mkdir()
    (folder / "b" / "trace.txt").write_text("\n".join(rows) + "\n")
    for index in range(10):
        (folder / f"c-{index:02}").mkdir()
        (folder / f"c-{index:02}" / "Get-ExchangeCertificate.txt").write_text(format_list(certificate()))
    return folder


@pytest.mark.parametrize("fmt", ["json", "terminal"])
def test_ctrl_c_during_check_reports_the_files_finished(tmp_path: Path, fmt: str) -> None:
    folder = _evidence_with_a_large_file(tmp_path / "evidence")
    terminal = Terminal()
    process = start("check", str(folder), "--format", fmt, "--now", "2026-03-01", stdout=subprocess.PIPE,
                    stderr=terminal.slave)
    terminal.start_reading()
    shown_then = terminal.wait_for(b"b/trace.txt")  # the progress bar names the file in hand
    assert b"files read" in shown_then and b"10/21" in shown_then
    process.send_signal(signal.SIGINT)
    out = process.communicate(timeout=GUARD)[0].decode()
    shown = terminal.finish().decode(errors="replace")
    assert process.returncode == 130, shown
    assert "interrupted: the report covers 10 of 21 files" in shown
    if fmt == "json":
        document = json.loads(out)
        Draft202012Validator(SCHEMA).validate(document)
        assert document["partial"] == {"reason": "interrupted", "done": 10, "total": 21, "unit": "files"}
        assert document["records"]["coverage"]["files_read"] == 10 and not document["records"]["trace_entries"]
        assert document["verdict"] == "fail"
    else:
        assert "partial: interrupted after 10 of 21 files" in out and "10 of 21 files read" in out


def test_the_partial_mark_is_worded_once_for_every_format() -> None:
    partial = Interruption(reason="interrupted", done=3, total=1200, unit="files")
    assert partial.words == "partial: interrupted after 3 of 1,200 files"
