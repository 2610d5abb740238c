"""The verdict says how much it rests on: files read of those given, records not understood, files skipped (and
why, by name); a PASS over half-read evidence must not look like a PASS over all of it."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import certificate, format_list, run_cli

import hybridtls

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "excas1"
    folder.mkdir()
    (folder / "certs.txt").write_text(format_list(certificate(RootCAType="ThirdParty")))
    (folder / "services.txt").write_text("Name : MSExchangeTransport\nStatus : Running\nStartType : Automatic\n")
    (folder / "screenshot.png").write_bytes(PNG)
    (folder / "export.zip").write_bytes(b"PK\x03\x04" + bytes(64))
    (folder / "broken.json").write_text('{"Thumbprint": ')
    return folder


def test_the_coverage_counts_what_was_read_and_what_was_not(tmp_path: Path) -> None:
    coverage = hybridtls.check(_folder(tmp_path), fail_on=None).evidence.coverage
    assert coverage is not None
    assert (coverage.files, coverage.files_read, coverage.files_skipped) == (3, 2, 2)
    assert (coverage.records, coverage.records_not_understood) == (1, 1)


def test_every_format_says_it_beside_the_verdict(tmp_path: Path) -> None:
    report = hybridtls.check(_folder(tmp_path), fail_on=None)
    words = "2 of 3 files read; 1 record not understood; 2 files skipped"
    terminal = run_cli("check", str(tmp_path / "excas1"), "--fail-on", "never", "--width", "200").out
    assert words in next(line for line in terminal.splitlines() if line.startswith(("PASS", "FAIL")))
    assert words.capitalize() in report.to_markdown()
    assert words in report.to_html()
    assert json.loads(report.to_json())["records"]["coverage"] == {
        "files": 3, "files_read": 2, "files_skipped": 2, "records": 1, "records_not_understood": 1}


def test_skipped_files_are_named_with_why(tmp_path: Path) -> None:
    notices = {Path(n.source.path).name: n.message for n in hybridtls.check(_folder(tmp_path)).evidence.notices}
    assert notices["screenshot.png"] == "skipped: an image (.png), not evidence hybridtls reads"
    assert notices["export.zip"].startswith("skipped: an archive (unpack it first)")


def test_a_whole_read_says_so_plainly(tmp_path: Path) -> None:
    folder = tmp_path / "excas1"
    folder.mkdir()
    (folder / "certs.txt").write_text(format_list(certificate(RootCAType="ThirdParty")))
    assert "— 1 file read  " in run_cli("check", str(folder), "--width", "200").out
