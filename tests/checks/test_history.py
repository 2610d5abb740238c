"""One file showing a certificate before and after a fix (a transcript, a ticket, a forum post): the later state is
judged, and what the earlier one showed is reported as seen and fixed, with where the later state was read."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from conftest import certificate, format_list

import hybridtls
from hybridtls.model import Severity

NOW = datetime(2029, 6, 1)
PROMPT = "[PS] C:\\Scripts>Get-ExchangeCertificate -Server excas1 -Thumbprint xxxxx | fl\n"


def _transcript(tmp_path: Path, *root_types: str) -> Path:
    text = "".join(PROMPT + format_list(certificate(RootCAType=root)) + "Then I imported the root.\n\n"
                   for root in root_types)
    path = tmp_path / "post.txt"
    path.write_text(text)
    return path


def _root_findings(report: hybridtls.Report) -> list[tuple[Severity, bool]]:
    return [(f.severity, f.fixed_at is not None) for f in report.findings if f.check_id == "HT-ROOT-001"]


def test_fixed_later_in_the_same_file_is_a_notice_naming_both_states(tmp_path: Path) -> None:
    report = hybridtls.check(_transcript(tmp_path, "Registry", "ThirdParty"), now=NOW)
    [finding] = [f for f in report.findings if f.check_id == "HT-ROOT-001"]
    assert finding.severity is Severity.INFO and finding.subject.startswith("seen and fixed: excas1")
    assert "RootCAType Registry" in finding.message and "'AuthRoot'" in finding.remediation
    later = finding.fixed_at
    assert later is not None and later.line is not None
    assert later.line > max(c.source.line or 0 for c in finding.evidence if c.source != later)
    assert finding.evidence[-1].source == later
    assert not report.failed
    assert [c.root_ca_type.value for c in report.evidence.certificates] == ["ThirdParty"]
    assert [c.root_ca_type.value for c in report.evidence.superseded_certificates] == ["Registry"]
    assert json.loads(report.to_json())["findings"][0]["fixed_at"]["line"] == later.line


def test_broken_again_after_the_fix_is_an_error(tmp_path: Path) -> None:
    report = hybridtls.check(_transcript(tmp_path, "Registry", "ThirdParty", "Registry"), now=NOW)
    assert _root_findings(report) == [(Severity.ERROR, False)]
    assert report.failed


def test_fixed_then_unchanged_reports_the_fix_once(tmp_path: Path) -> None:
    report = hybridtls.check(_transcript(tmp_path, "Registry", "ThirdParty", "ThirdParty"), now=NOW)
    assert _root_findings(report) == [(Severity.INFO, True)]


def test_the_same_certificate_in_two_files_is_two_observations(tmp_path: Path) -> None:
    """Across files nothing says which came first: both are judged, as before."""
    for name, root in (("a", "Registry"), ("b", "ThirdParty")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "certs.txt").write_text(PROMPT + format_list(certificate(RootCAType=root)))
    report = hybridtls.check(tmp_path, now=NOW)
    assert _root_findings(report) == [(Severity.ERROR, False)]
    assert report.evidence.superseded_certificates == ()


def test_a_certificate_seen_once_is_untouched(tmp_path: Path) -> None:
    report = hybridtls.check(_transcript(tmp_path, "Registry"), now=NOW)
    assert _root_findings(report) == [(Severity.ERROR, False)]
