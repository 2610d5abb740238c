"""DANE in the reports: one line per address in every format, and a hostile saved resolver name shown escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli
from test_escaping import FORGED, HOSTILE, RAW

SAVED = FIXTURES / "plan" / "dane" / "probe.json"


def _hostile(tmp_path: Path) -> Path:
    document = json.loads(SAVED.read_text(encoding="utf-8"))
    [probe] = document["records"]["probes"]
    probe["dane"]["resolver"] = "192.0.2.53" + "".join(HOSTILE) + "\n" + FORGED + "\n"
    probe["dane"]["matches"][0]["record"]["data_hex"] = "00" * 32  # no longer matches: HT-DANE-001 names the resolver
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html", "json"])
def test_a_hostile_resolver_name_is_shown_escaped(tmp_path: Path, fmt: str) -> None:
    run = run_cli("check", str(_hostile(tmp_path)), "--format", fmt, "--now", "2026-11-27", "--width", "200",
                  "--trust", str(SAVED.parent / "root.pem"))
    assert "Traceback" not in run.err and "HT-DANE-001" in run.out
    assert RAW.findall(run.out) == []
    assert [line for line in run.out.split("\n") if line.lstrip(" >|#*-").startswith(FORGED)] == []


@pytest.mark.parametrize(("fmt", "expected"), [
    ("markdown", "| DANE: 1 TLSA record(s) at \\_25.\\_tcp.mx.contoso.com, matched by 3 1 1 8cde9e13..."),
    ("html", "<td>DANE: 1 TLSA record(s) at _25._tcp.mx.contoso.com, matched by 3 1 1 8cde9e13...; DNSSEC secure, "
             "as reported by 192.0.2.53 (AD bit); hybridtls does not validate signatures itself; no DANE failure</td>"),
])
def test_one_dane_line_per_address(fmt: str, expected: str) -> None:
    run = run_cli("check", str(SAVED), "--format", fmt, "--now", "2026-11-27", "--trust", str(SAVED.parent / "root.pem"))
    assert expected in run.out


def test_check_with_the_replacement_at_hand_names_the_record_it_needs() -> None:
    trust = ("--trust", str(SAVED.parent / "root.pem"))
    run = run_cli("check", str(SAVED), str(SAVED.parent / "new.pem"), "--format", "json", "--now", "2026-11-27", *trust)
    [finding] = [f for f in json.loads(run.out)["findings"] if f["check_id"] == "HT-DANE-003"]
    assert "not its replacement in the evidence" in finding["message"] and "# Before the swap" in finding["remediation"]
    run = run_cli("check", str(SAVED), str(SAVED.parent / "new-same-key.pem"), "--format", "json", "--now", "2026-11-27",
                  *trust)
    assert [f for f in json.loads(run.out)["findings"] if f["check_id"].startswith("HT-DANE")] == []  # key reused
