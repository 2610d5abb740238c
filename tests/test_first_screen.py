"""The first screen (issue 15, part A): the verdict, then each root cause ranked with the one command that fixes it;
what the cause explains listed under it; evidence older than its judging date said at the top, and an expiry that
only today's date makes is context, not a cause."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from conftest import CASES, certificate, run_cli
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.checks import CHECKS, CHECKS_BY_ID, CheckContext, run_checks
from hybridtls.checks.causes import EXPLAINS, explains
from hybridtls.checks.fixes import AUTHROOT_IMPORT, ENABLE_SMTP, filled
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import Finding, FindingSubject, Severity
from hybridtls.powershell import check_pasteable, is_single_line, ps_literal
from hybridtls.report.summary import rank_causes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "founding-incident"
AUTHROOT_LINE = r"Import-Certificate -FilePath '<RootCertificate.cer>' -CertStoreLocation Cert:\LocalMachine\AuthRoot"


# --- the founding case as a new user meets it ---------------------------------------------------------------------

@pytest.mark.parametrize("now", [None, "2016-02-18"], ids=["today", "as-of-the-incident"])
def test_the_first_lines_name_the_verdict_the_server_the_cause_and_the_one_command(monkeypatch, now) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    run = run_cli("check", str(EXAMPLE), "--width", "80", *(["--now", now] if now else []))
    first = run.out.splitlines()[:15]
    screen = "\n".join(first)
    assert run.code == 1
    assert any(line.startswith("FAIL") for line in first)
    assert "1. ERROR HT-ROOT-001" in screen and "(RootCAType Registry)" in screen
    assert "where: excas1:" in screen
    assert f"   fix:   {AUTHROOT_LINE}" in first  # whole, on one line, never wrapped
    assert "HT-CERT-001" not in screen  # the expiry today's date makes is not a second root cause
    assert ("This evidence is from 2016-02-18" in screen) is (now is None)


def test_an_expiry_only_today_makes_is_context_said_so_and_ranked_after_the_causes(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    run = run_cli("check", str(EXAMPLE), "--width", "200")
    out = run.out
    summary = out[:out.index("\nDetails\n")]
    assert summary.index("Root causes, most important first") < summary.index("Context, not causes")
    context = summary[summary.index("Context, not causes"):]
    assert "HT-CERT-001  Certificate expired" in context
    assert "expired as of today (" in context and "as of the evidence's own date (2016-02-18) it was valid" in context
    assert "fix:" not in context  # nothing to fix as of the evidence's own date
    details = out[out.index("\nDetails\n"):]
    assert "as of the evidence's own date (2016-02-18) it was valid, so it is context" in " ".join(details.split())


def test_json_summary_ranks_the_cause_lists_what_it_explains_and_keeps_the_context_apart() -> None:
    document = json.loads(run_cli("check", str(EXAMPLE), "--format", "json").out)
    summary = document["summary"]
    assert summary["verdict"] == document["verdict"] == "fail"
    assert summary["evidence_date"].startswith("2016-02-18")
    [cause] = summary["root_causes"]
    assert cause["check_id"] == "HT-ROOT-001" and cause["where"].startswith("excas1: ")
    assert cause["command"] == AUTHROOT_LINE
    keys = {f["check_id"]: f["key"] for f in document["findings"]}
    assert cause["explains"] == [keys["HT-TRACE-001"], keys["HT-TRACE-002"]]
    assert [c["check_id"] for c in summary["context"]] == ["HT-CERT-001"]
    assert summary["context"][0]["command"] is None
    judged_then = json.loads(run_cli("check", str(EXAMPLE), "--format", "json", "--now", "2016-02-18").out)
    assert judged_then["summary"]["evidence_date"] is None and judged_then["summary"]["context"] == []


def test_brief_prints_only_the_summary_and_verbose_lists_the_checks_that_could_not_run(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    brief = run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--brief", "--width", "200").out
    assert AUTHROOT_LINE in brief and "explains: HT-TRACE-001" in brief
    assert "Details" not in brief and "Why" not in brief and "Evidence" not in brief
    count = [line for line in brief.splitlines() if "could not run" in line]
    document = json.loads(run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--format", "json").out)
    idle = sum(1 for c in document["checks"] if c["status"] == "not_applicable")
    assert idle > 40 and count == [f"{idle} checks could not run for lack of evidence; --verbose lists them"]
    full = run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--width", "200").out
    assert "Details" in full and "HT-CHAIN-001" not in full and count[0] in full
    verbose = run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--width", "200", "--verbose").out
    assert "Checks that could not run on this evidence" in verbose and "HT-CHAIN-001" in verbose
    assert "--verbose lists them" not in verbose


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_brief_holds_the_summary_only_in_markdown_and_html(fmt: str) -> None:
    brief = run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--brief", "--format", fmt).out
    full = run_cli("check", str(EXAMPLE), "--now", "2016-02-18", "--format", fmt).out
    for out in (brief, full):
        assert "Root causes, most important first" in out and "RootCertificate.cer" in out
    assert "Details" in full and "Details" not in brief
    assert "Exchange reports in RootCAType" in full and "Exchange reports in RootCAType" not in brief


def test_cert_and_probe_take_brief_too(tmp_path: Path) -> None:
    from factory import public_like_pki

    pki = public_like_pki()
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pki.leaf.pem)
    brief = run_cli("cert", str(leaf), "--brief", "--width", "200").out
    assert brief.startswith("hybridtls cert: 1 certificate\n") and "Subject" not in brief
    assert "Root causes, most important first" in brief and "HT-CHAIN-001" in brief


# --- the ranking rules, each of which would break if reversed -----------------------------------------------------

def finding(check_id: str, severity: Severity = Severity.ERROR, server: str | None = None, **extra: str) -> Finding:
    return Finding(check_id=check_id, severity=severity, subject=f"{server or 'estate'}: {check_id}", message="",
                   server=server, about=FindingSubject(server=server, name=check_id), **extra)


def ids(ranked: list[tuple[Finding, list[Finding]]]) -> list[tuple[str, list[str]]]:
    return [(cause.check_id, [f.check_id for f in under]) for cause, under in ranked]


def test_errors_rank_before_warnings_and_warnings_before_notices() -> None:
    ranked, _ = rank_causes([finding("HT-STORE-005", Severity.INFO), finding("HT-STORE-003", Severity.WARNING),
                             finding("HT-CERT-006", Severity.ERROR)])
    assert ids(ranked) == [("HT-CERT-006", []), ("HT-STORE-003", []), ("HT-STORE-005", [])]


def test_what_a_cause_explains_is_listed_under_it_never_as_a_root_cause() -> None:
    trace = finding("HT-TRACE-001", Severity.ERROR)
    root = finding("HT-ROOT-001", Severity.WARNING, server="excas1")
    ranked, context = rank_causes([trace, root])  # the report's order: the explained error first
    assert ids(ranked) == [("HT-ROOT-001", ["HT-TRACE-001"])] and context == []


def test_a_cause_that_explains_an_error_ranks_with_the_errors_and_before_one_that_explains_nothing() -> None:
    lone = finding("HT-CERT-006", Severity.ERROR, server="exmbx1")
    trace = finding("HT-TRACE-001", Severity.ERROR)
    root = finding("HT-ROOT-001", Severity.WARNING, server="excas1")
    ranked, _ = rank_causes([lone, trace, root])
    assert ids(ranked) == [("HT-ROOT-001", ["HT-TRACE-001"]), ("HT-CERT-006", [])]


def test_explanation_is_transitive_and_each_finding_is_listed_once() -> None:
    trace = finding("HT-TRACE-001", Severity.WARNING)
    change = finding("HT-TRACE-002", Severity.WARNING)
    root = finding("HT-ROOT-001", Severity.ERROR, server="excas1")
    store = finding("HT-STORE-001", Severity.ERROR, server="excas1")  # explains the trace too
    ranked, _ = rank_causes([root, store, trace, change])
    assert ids(ranked) == [("HT-ROOT-001", ["HT-TRACE-001", "HT-TRACE-002"]), ("HT-STORE-001", [])]


def test_a_cause_on_one_server_does_not_explain_a_symptom_on_another() -> None:
    cause = finding("HT-CERT-007", Severity.ERROR, server="exmbx1")
    here = finding("HT-LOG-001", Severity.ERROR, server="EXMBX1")
    there = finding("HT-LOG-001", Severity.ERROR, server="excas1")
    assert explains(cause, here) and not explains(cause, there)
    ranked, _ = rank_causes([cause, here, there])
    assert ids(ranked) == [("HT-CERT-007", ["HT-LOG-001"]), ("HT-LOG-001", [])]
    assert ranked[1][0] is there


def test_context_and_what_was_fixed_are_never_causes_and_explain_nothing() -> None:
    expired = finding("HT-CERT-001", Severity.ERROR, context="expired as of today; valid then")
    trace = finding("HT-TRACE-001", Severity.WARNING)
    ranked, context = rank_causes([expired, trace])
    assert ids(ranked) == [("HT-TRACE-001", [])] and context == [expired]


def test_the_table_names_real_checks_and_has_no_cycle() -> None:
    for cause, effects in EXPLAINS.items():
        assert cause in CHECKS_BY_ID and cause not in effects
        assert set(effects) <= set(CHECKS_BY_ID), set(effects) - set(CHECKS_BY_ID)
    visiting: set[str] = set()

    def walk(check_id: str, path: tuple[str, ...]) -> None:
        assert check_id not in path, " -> ".join((*path, check_id))
        if check_id in visiting:
            return
        for effect in EXPLAINS.get(check_id, ()):
            walk(effect, (*path, check_id))
        visiting.add(check_id)

    for check_id in EXPLAINS:
        walk(check_id, ())


# --- the one command -------------------------------------------------------------------------------------------

def test_every_check_declares_one_line_to_paste() -> None:
    for check in CHECKS:
        assert check.command and "\n" not in check.command, check.id
        assert check_pasteable(check.command) == check.command
    assert CHECKS_BY_ID["HT-ROOT-001"].command == AUTHROOT_IMPORT == AUTHROOT_LINE
    assert f"# Or, from a file: {AUTHROOT_LINE}" in run_cli("check", str(CASES / "founding-incident"),
                                                             "--now", "2016-02-20", "--width", "300").out


def test_the_command_names_the_server_and_thumbprint_of_the_finding_quoted() -> None:
    check = CHECKS_BY_ID["HT-CERT-005"]
    made = check.finding(subject="x", message="x", server="EX'01", about=FindingSubject(certificate="ab" * 20))
    assert made.command == f"Enable-ExchangeCertificate -Server 'EX''01' -Thumbprint {'AB' * 20} -Services SMTP"
    unsafe = check.finding(subject="x", message="x", server="EX01\nStop-Computer",
                           about=FindingSubject(certificate="issuer+serial:cn=ca|0a"))
    assert unsafe.command == ENABLE_SMTP


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=50)))
def test_a_filled_command_is_always_one_safe_line(server: str, certificate_text: str | None) -> None:
    command = filled(ENABLE_SMTP, server=server, certificate=certificate_text)
    assert is_single_line(command) and check_pasteable(command) == command
    if command.startswith("Enable-ExchangeCertificate -Server '"):
        assert f"-Server {ps_literal(server)} " in command
    else:
        assert "-Server <ServerName>" in command


# --- an expiry as of today, against the evidence's own date ---------------------------------------------------------

@pytest.mark.parametrize(("not_after", "context"), [("3/14/2017 11:59:59 PM", True), ("1/14/2016 11:59:59 PM", False)])
def test_an_expiry_is_context_only_when_the_certificate_was_valid_as_of_the_evidence(
        estate, not_after: str, context: bool) -> None:
    folder = estate({"excas1": [certificate(NotAfter=not_after, NotBefore="3/15/2015 12:00:00 AM")]})
    ctx = CheckContext(now=datetime(2026, 11, 30), evidence_date=datetime(2016, 2, 18))
    [outcome] = [o for o in run_checks(load_evidence([str(folder)]), ctx) if o.check_id == "HT-CERT-001"]
    [expired] = outcome.findings
    assert expired.severity is Severity.ERROR
    assert bool(expired.context) is context
    said = "as of the evidence's own date (2016-02-18) it was valid"
    assert (said in expired.message) is context and (said in expired.context) is context
    ranked, later = rank_causes([expired])
    assert (later == [expired]) is context and (ids(ranked) == [("HT-CERT-001", [])]) is (not context)


# --- the HTML summary in a real browser ----------------------------------------------------------------------------

_MEASURE = """<script>
const box = document.getElementById('summary').getBoundingClientRect();
const pre = document.querySelector('#summary pre.command');
const r = pre.getBoundingClientRect();
document.body.setAttribute('data-measure', JSON.stringify({height: innerHeight, width: innerWidth,
  summary_top: box.top, command_bottom: r.bottom, command_right: r.right, scroll: pre.scrollWidth,
  client: pre.clientWidth, text: pre.textContent}));
</script>
</body>"""


def test_a_real_browser_shows_the_summary_and_the_whole_command_in_the_first_screen(tmp_path: Path) -> None:
    import re
    import subprocess

    from test_reports import CHROMIUM, FLAGS

    if not CHROMIUM:
        pytest.skip("needs Debian's chromium") if not __import__("os").environ.get("CI") else pytest.fail("no chromium")
    report = tmp_path / "report.html"
    run_cli("check", str(EXAMPLE), "--format", "html", "-o", str(report))  # as of today: the context line too
    page = report.read_text(encoding="utf-8")
    # The report forbids scripts (its Content-Security-Policy); the measuring copy drops that one line only.
    measured = tmp_path / "measured.html"
    measured.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
                        .replace("</body>", _MEASURE), encoding="utf-8")

    def chromium(*args: str) -> str:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1024,768",
                               *args], capture_output=True, text=True, timeout=120).stdout

    dom = chromium("--dump-dom", measured.as_uri())
    found = re.search(r"data-measure=\"([^\"]*)\"", dom)
    assert found, dom[-2000:]
    box = json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
                     .replace("&amp;", "&"))
    assert box["text"] == AUTHROOT_LINE
    assert 0 < box["summary_top"] < box["command_bottom"] <= box["height"]  # within the first screen
    assert box["command_right"] <= box["width"] and box["scroll"] <= box["client"]  # whole, not clipped or scrolled
    shot = tmp_path / "first-screen.png"
    chromium(f"--screenshot={shot}", report.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_python_api_gives_the_same_summary() -> None:
    import hybridtls

    report = hybridtls.check([str(EXAMPLE)], now=datetime(2016, 2, 18))
    [cause] = report.summary.causes
    assert cause.finding.check_id == "HT-ROOT-001" and cause.command == AUTHROOT_LINE
    assert [f.check_id for f in cause.explained] == ["HT-TRACE-001", "HT-TRACE-002"]
    assert report.summary.context == () and report.summary.evidence_date is None


def test_valid_then_speaks_only_when_every_reading_was_valid_as_of_the_evidence() -> None:
    ctx = CheckContext(now=datetime(2026, 11, 30), evidence_date=datetime(2016, 2, 18))
    assert ctx.valid_then(datetime(2018, 2, 12)) == ("expired as of today (2026-11-30); as of the evidence's own "
                                                      "date (2016-02-18) it was valid")
    assert ctx.valid_then(datetime(2016, 2, 18)) != ""  # valid to the day
    assert ctx.valid_then(datetime(2018, 2, 12), datetime(2016, 2, 17)) == ""  # one reading expired already then
    assert ctx.valid_then() == ""
    assert CheckContext(now=datetime(2026, 11, 30)).valid_then(datetime(2018, 2, 12)) == ""  # --now given: no date


@pytest.mark.parametrize(("evidence_date", "context"), [(datetime(2026, 1, 1), True), (datetime(2026, 8, 1), False)])
def test_an_expired_ca_copy_in_a_store_listing_is_context_when_it_was_valid_as_of_the_evidence(
        evidence_date: datetime, context: bool) -> None:
    from conftest import FIXTURES

    ctx = CheckContext(now=datetime(2026, 11, 30, 9), evidence_date=evidence_date)  # the copy's NotAfter: 2026-06-30
    [outcome] = [o for o in run_checks(load_evidence([str(FIXTURES / "stores")]), ctx) if o.check_id == "HT-STORE-004"]
    [expired] = outcome.findings
    assert bool(expired.context) is context
    assert ("context, not a cause" in expired.message) is context


def test_a_short_fix_of_the_finding_is_its_one_line_and_a_long_or_continued_one_is_not() -> None:
    from hybridtls.checks.fixes import one_line

    assert one_line("# note\n$c = Get-Item x\nSet-Thing -Name $c   # why") == "$c = Get-Item x; Set-Thing -Name $c   # why"
    assert one_line("Set-A   # a comment would swallow what follows\nSet-B") == ""
    assert one_line("Get-A |\n    Set-B") == ""
    assert one_line("a\nb\nc\nd") == ""
    assert one_line("# only a comment") == ""


def test_a_malformed_name_on_a_receive_connector_is_fixed_with_set_receiveconnector(monkeypatch) -> None:
    from conftest import FIXTURES

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(FIXTURES / "commands")
    out = run_cli("check", "change-ticket.md", "configure-hybrid.ps1", "--now", "2026-11-27", "--brief",
                  "--width", "300").out
    assert ("fix:   $c = Get-ExchangeCertificate -Server <ServerName> -Thumbprint <Thumbprint>; Set-ReceiveConnector "
            "-Identity 'EXCAS1\\Default Frontend EXCAS1' -TlsCertificateName") in out
    assert "Set-SendConnector -Identity '<ConnectorName>'" not in out


@given(st.text(max_size=200))
def test_one_line_is_empty_or_one_line_without_a_comment_before_its_end(script: str) -> None:
    from hybridtls.checks.fixes import one_line

    line = one_line(script)
    assert "\n" not in line
    statements = [s.strip() for s in script.split("\n") if s.strip() and not s.lstrip().startswith("#")]
    if line:  # every statement, in order, none lost, and no '#' that would swallow a later one
        assert line == "; ".join(statements) and len(statements) <= 3
        assert all("#" not in s for s in statements[:-1])
