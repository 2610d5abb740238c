"""The output grows at most linearly with the input: counted in objects (citations, bytes of JSON), not timed.

The same certificate observed on many servers once made every finding cite every other observation, so a report
grew with the square of the estate.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from conftest import certificate, format_list
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hybridtls
from hybridtls.references import MAX_CITATIONS

ROOT_TYPES = ("Registry", "ThirdParty", "GroupPolicy", "None")


def _estate(folder: Path, pattern: list[str], copies: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, root in enumerate(pattern * copies):
        server = folder / f"ex{index:05d}"
        server.mkdir(exist_ok=True)
        (server / "c.txt").write_text(format_list(certificate(RootCAType=root)))
    return folder


def _size(folder: Path) -> tuple[int, int, int]:
    report = hybridtls.check(folder, now=datetime(2029, 6, 1))
    assert all(len(f.evidence) <= MAX_CITATIONS for f in report.findings)
    return len(report.findings), sum(len(f.evidence) for f in report.findings), len(report.to_json())


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=st.lists(st.sampled_from(ROOT_TYPES), min_size=2, max_size=4))
def test_report_size_is_linear_in_the_number_of_servers(tmp_path_factory, pattern: list[str]) -> None:  # type: ignore[no-untyped-def]
    base = tmp_path_factory.mktemp("growth")
    small = _size(_estate(base / "small", pattern, 20))  # enough servers that every citation list is full
    large = _size(_estate(base / "large", pattern, 80))
    findings, citations, size = small
    assert large[0] <= 4 * findings + 4  # findings per server, not per pair of servers
    assert large[1] <= 4 * citations + 4 * MAX_CITATIONS
    assert large[2] <= 4.5 * size  # JSON: four times the servers, at most about four times the bytes


def test_a_cut_citation_list_says_how_many_and_where(tmp_path: Path) -> None:
    folder = _estate(tmp_path / "estate", ["Registry", "ThirdParty"], 30)
    report = hybridtls.check(folder, now=datetime(2029, 6, 1))
    root = [f for f in report.findings if f.check_id == "HT-ROOT-001"]
    assert len(root) == 30
    for finding in root:
        assert len(finding.evidence) == MAX_CITATIONS and finding.evidence_omitted == 30 + 3 - MAX_CITATIONS
        assert "other servers" in finding.evidence_omitted_where and "and 20 more" in finding.message
    for fmt in ("terminal", "markdown", "html"):
        import io

        out = io.StringIO()
        report.write(fmt, out, width=120, color=False)
        assert f"and {30 + 3 - MAX_CITATIONS} more citation(s) of the same kind" in out.getvalue()


def test_the_same_note_on_many_lines_of_a_file_is_one_line_in_every_format() -> None:
    import io
    import json

    from hybridtls.checks import checks_for
    from hybridtls.model import EvidenceSet, Notice, Source
    from hybridtls.report import Report

    notices = tuple(Notice(source=Source(path="table.txt", line=n), message="Thumbprint 'x' is malformed")
                    for n in range(6, 6006))
    evidence = EvidenceSet(files=("table.txt",), notices=(*notices, Notice(source=Source(path="other.txt"), message="m")))
    report = Report(command="check", evidence=evidence, checks=checks_for("check"), outcomes=(),
                    now=datetime(2026, 11, 30), fail_on=None)
    for fmt in ("terminal", "markdown", "html"):
        out = io.StringIO()
        report.write(fmt, out, width=200, color=False)
        text = out.getvalue()
        assert text.count("is malformed") == 1 and "table.txt:6, 7, 8, 9, 10 and 5,995 more lines" in text, fmt
    assert len(json.loads(report.to_json())["records"]["notices"]) == 6001  # the JSON keeps every one


def test_records_of_unread_kinds_are_listed_up_to_a_bound_and_counted(tmp_path: Path) -> None:
    from hybridtls.evidence.loader import MAX_SKIPPED_LISTED, load_evidence

    path = tmp_path / "unknown.txt"
    path.write_text("\n\n".join(f"Colour : blue\nShape  : round {n}" for n in range(MAX_SKIPPED_LISTED + 800)))
    evidence = load_evidence([str(path)])
    assert len(evidence.skipped) == MAX_SKIPPED_LISTED
    assert [n.message for n in evidence.notices] == [
        f"800 more records of kinds hybridtls does not read were skipped here, beyond the {MAX_SKIPPED_LISTED} listed"]
