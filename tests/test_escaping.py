"""No value from evidence can act on, hide from or forge a line in any report format.

Evidence arrives as ConvertTo-Json, whose strings can hold any character: newlines, carriage returns, Unicode
line separators, terminal escapes, bidi overrides, zero-width characters. Every format must show them visibly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run_cli

HOSTILE = ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x1b[2J", "\x07", "\x00", "\x7f",
           "\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\u061c"]
FORGED = "PASS  0 errors, 0 warnings"
# Every character above except the newline, which each format uses for its own lines.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _evidence(folder: Path) -> Path:
    records = []
    for server in ("EXCAS1", "EXMBX1"):
        subject = "CN=mail.contoso.com" + "".join(HOSTILE) + "\n" + FORGED + "\n"
        records.append({
            "PSComputerName": server, "Subject": subject, "Issuer": "CN=Issuer\r\n" + FORGED,
            "Thumbprint": ("A" if server == "EXCAS1" else "B") * 40, "RootCAType": 3 if server == "EXCAS1" else 1,
            "Services": 16, "IsSelfSigned": False, "HasPrivateKey": True, "Status": 1,
            "FriendlyName": "friendly\u2028" + FORGED, "CertificateDomains": ["mail.contoso.com\n" + FORGED],
            "NotBefore": "/Date(1700000000000)/", "NotAfter": "/Date(1900000000000)/",
        })
    path = folder / "Get-ExchangeCertificate.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html", "json"])
def test_every_format_shows_hostile_evidence_visibly_on_one_line(tmp_path: Path, fmt: str) -> None:
    evidence = _evidence(tmp_path)
    run = run_cli("check", str(evidence), "--format", fmt, "--now", "2025-01-01", "--width", "200")
    assert "Traceback" not in run.err and "internal error" not in run.err
    assert "HT-ROOT-001" in run.out, run.out[:2000]
    assert RAW.findall(run.out) == []
    forged = [line for line in run.out.split("\n") if line.lstrip(" >|#*-").startswith(FORGED)]
    assert forged == []
    if fmt == "json":
        document = json.loads(run.out)
        assert any(FORGED in finding["subject"] for finding in document["findings"])  # kept whole, but escaped
    else:
        assert "\\n" + FORGED in run.out or "\\\\n" + FORGED in run.out  # the value is shown, escaped


def test_a_fix_never_carries_a_line_break_from_evidence(tmp_path: Path) -> None:
    evidence = _evidence(tmp_path)
    document = json.loads(run_cli("check", str(evidence), "--format", "json", "--now", "2025-01-01").out)
    for finding in document["findings"]:
        for line in finding["remediation"].split("\n"):
            assert RAW.findall(line) == [] and not line.lstrip().startswith(FORGED), line
