"""HTML and Markdown reports: golden files, hostile evidence, and a real headless browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from conftest import CASES, certificate, format_list, run_cli
from markdown_it import MarkdownIt

from hybridtls.checks import CHECKS, CheckContext, run_checks
from hybridtls.model import EvidenceSet, ProbeOutcome, ProbeResult, ProbeStep, Severity
from hybridtls.report import Report
from hybridtls.report.html import render_html
from hybridtls.report.markdown import code_block, text

GOLDEN = Path(__file__).parent / "golden"
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>"quoted" | `tick` [link](javascript:x)'


@pytest.mark.parametrize(("name", "fmt"), [("founding-incident.html", "html"), ("founding-incident.md", "markdown")])
def test_golden(monkeypatch, name: str, fmt: str) -> None:
    monkeypatch.chdir(CASES)
    run = run_cli("check", "founding-incident", "--now", "2016-02-20T09:00", "--format", fmt)
    path = GOLDEN / name
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def hostile_estate(tmp_path: Path) -> Path:
    for server, root in (("excas1", "Registry"), ("exmbx1", "ThirdParty")):
        folder = tmp_path / "evidence" / server
        folder.mkdir(parents=True)
        (folder / "certs.txt").write_text(format_list(certificate(Subject=f"CN={HOSTILE}", RootCAType=root)))
    return tmp_path / "evidence"


def test_hostile_evidence_renders_as_text_in_html(tmp_path: Path) -> None:
    run = run_cli("check", str(hostile_estate(tmp_path)), "--format", "html", "--now", "2029-06-01")
    html = run.out
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert re.findall(r'<a href="([^"]+)"', html) and all(h.startswith("https://") for h in re.findall(r'<a href="([^"]+)"', html))
    assert 'id="matrix"' in html and "not ThirdParty" in html  # the odd server is highlighted


def test_hostile_evidence_renders_as_text_in_markdown(tmp_path: Path) -> None:
    run = run_cli("check", str(hostile_estate(tmp_path)), "--format", "markdown", "--now", "2029-06-01")
    assert not re.search(r"(?<!\\)<(script|img)", run.out)  # every "<" that would open a tag has its backslash
    rendered = MarkdownIt("commonmark").enable("table").render(run.out)  # as a ticket system would show it
    assert "<script" not in rendered and "<img" not in rendered and "javascript:x" not in re.findall(r'href="([^"]*)"', rendered)
    assert '<script>document.title="pwned"</script>' in html.unescape(rendered)  # shown as typed
    assert not re.search(r"(?<!\\)\]\(javascript", run.out)  # the bracket is escaped: no link
    assert "\\<script>" in run.out and "\\| \\`tick\\` \\[link\\]" in run.out
    assert "&lt;" not in run.out and "&gt;" not in run.out  # backslashes keep it inert, and it reads as typed
    assert code_block("a ``` b").startswith("````powershell")
    assert text("# heading") == "\\# heading"


@pytest.mark.parametrize(("fmt", "heading", "line"), [
    ("terminal", "Checks that could not run or judge everything on this evidence", "  HT-CERT-001 (judged in part): "),
    ("markdown", "## Checks that could not run or judge everything", "- HT-CERT-001 (judged in part): "),
    ("html", "<h2>Checks that could not run or judge everything on this evidence</h2>",
     "<li><code>HT-CERT-001 (judged in part)</code>: ")])
def test_a_check_that_fired_but_could_not_judge_a_date_says_so_in_every_format(
        tmp_path: Path, fmt: str, heading: str, line: str) -> None:
    (tmp_path / "excas1").mkdir()
    (tmp_path / "excas1" / "certs.txt").write_text(format_list(
        certificate(NotAfter="3/4/2030 1:00:00 PM", NotBefore="1/1/2029 1:00:00 PM"),  # 4 March or 3 April
        certificate(Thumbprint="D" * 40, SerialNumber="0D", NotAfter="1/1/2030 1:00:00 PM",  # the same either way
                    NotBefore="1/1/2029 1:00:00 PM")))
    run = run_cli("check", str(tmp_path), "--now", "2030-03-20", "--format", fmt, "--width", "400")
    assert run.code == 1 and heading in run.out
    said = run.out[run.out.index(line) + len(line):]
    assert said.startswith("could not judge CN=mail.contoso.com")
    assert "expired if 2030-03-04, not expired if 2030-04-03" in " ".join(said.split()[:60])
    if fmt == "markdown":  # the certificate table gives both readings, never one of them as the date
        assert "| 2030-03-04 or 2030-04-03 |" in run.out and "| 2030-01-01 |" in run.out


def test_probe_table_and_timeline_views() -> None:
    probe = ProbeResult(host="mx.contoso.test", address="127.0.0.2", port=25, expected_name="mx.contoso.test",
                        outcome=ProbeOutcome.NO_STARTTLS, stage=ProbeStep.EHLO, detail="STARTTLS is not among the EHLO extensions")
    evidence = EvidenceSet(probes=(probe,))
    now = datetime(2026, 11, 27)
    report = Report(command="probe", evidence=evidence, now=now, fail_on=Severity.WARNING, checks=CHECKS,
                         outcomes=tuple(run_checks(evidence, CheckContext(now=now))))
    html = render_html(report)
    assert 'id="probes"' in html and "mx.contoso.test[127.0.0.2]:25" in html and "HT-WIRE-002" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="needs Debian's chromium")
def test_a_real_browser_opens_the_report(tmp_path: Path) -> None:
    assert CHROMIUM, ".ci/run installs Debian's chromium"
    report = tmp_path / "founding.html"
    run_cli("check", str(CASES / "founding-incident"), "--format", "html", "--now", "2016-02-20", "-o", str(report))
    hostile = tmp_path / "hostile.html"
    run_cli("check", str(hostile_estate(tmp_path)), "--format", "html", "--now", "2029-06-01", "-o", str(hostile))
    profile = tmp_path / "profile"

    def chromium(*args: str) -> str:
        done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120)
        return done.stdout

    dom = chromium("--dump-dom", report.as_uri())
    assert 'id="verdict"' in dom and "FAIL" in dom
    assert 'id="matrix"' in dom and "RootCAType Registry" in dom
    assert 'id="timeline"' in dom and "<svg" in dom and "new certificate valid from 2016-02-12" in dom
    hostile_dom = chromium("--dump-dom", hostile.as_uri())
    title = re.search(r"<title>(.*?)</title>", hostile_dom)
    assert title and "pwned" not in title.group(1)  # the evidence's script never ran
    assert "<script" not in hostile_dom and "&lt;script&gt;document.title" in hostile_dom
    shot = tmp_path / "founding.png"
    chromium("--window-size=1200,2400", f"--screenshot={shot}", report.as_uri())
    assert shot.exists() and shot.stat().st_size > 50_000  # a rendered page, not a blank one
    pdf = tmp_path / "founding.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000  # it prints
