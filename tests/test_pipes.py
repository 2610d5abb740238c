"""Output that survives pipes, files and tickets: a closed pipe ends quietly with the findings' status, nothing is
hard-wrapped off a terminal, colour only where asked for, Markdown without HTML entities, and the HTML matrix
marking only the value that differs. Run as real processes where the stream's nature is the point."""

from __future__ import annotations

import dataclasses
import html
import io
import re
import subprocess
from pathlib import Path

import pytest
from conftest import CASES, certificate, format_list, run_cli
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from processes import GUARD, Terminal, environment, start

from hybridtls.model import Interruption
from hybridtls.pipeline import judge_evidence
from hybridtls.report.escape import inert
from hybridtls.report.markdown import text

COLOUR = re.compile(rb"\x1b\[[0-9;]*?(3[0-7]|9[0-7]|38;[25];[0-9;]+|4[0-7]|10[0-7])m")  # a foreground/background
ESCAPE = re.compile(rb"\x1b\[")


def _estate(folder: Path, *, odd: bool) -> Path:
    """60 servers with the same certificate (a JSON report of ~100 KB, more than a pipe holds); with ``odd``, the
    first shows RootCAType Registry (an error)."""
    for index in range(60):
        (folder / f"ex{index:02}").mkdir(parents=True)
        root = "Registry" if odd and index == 0 else "ThirdParty"
        (folder / f"ex{index:02}" / "Get-ExchangeCertificate.txt").write_text(format_list(certificate(RootCAType=root)))
    return folder


@pytest.mark.parametrize(("odd", "fail_on", "status"), [(False, "error", 0), (True, "error", 1), (True, "never", 0)])
def test_a_pipe_closed_early_ends_quietly_with_the_findings_status(tmp_path: Path, odd: bool, fail_on: str,
                                                                   status: int) -> None:
    evidence = _estate(tmp_path / "evidence", odd=odd)
    process = start("check", str(evidence), "--now", "2029-06-01", "--format", "json", "--fail-on", fail_on,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == b"{\n"  # `| head -1`: one line, then the reader is gone
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(GUARD) == status
    assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err, err
    assert "error:" not in err


LONG = "a-folder-name-long-enough-that-the-path-of-a-file-inside-it-cannot-fit-in-eighty-columns"


def _founding_case_at_a_long_path(tmp_path: Path) -> Path:
    folder = tmp_path / LONG / "founding-incident"
    for source in (CASES / "founding-incident").rglob("*"):
        if source.is_file():
            target = folder / source.relative_to(CASES / "founding-incident")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return folder


def _paths(text: str, folder: Path) -> list[str]:
    """Every path under ``folder`` the text names (up to a space or a line's ``:N``)."""
    return re.findall(re.escape(str(folder)) + r"[^\s:]*", text)


def test_a_report_written_to_a_file_keeps_paths_whole(tmp_path: Path) -> None:
    folder = _founding_case_at_a_long_path(tmp_path)
    to_file = tmp_path / "report.txt"
    with to_file.open("wb") as stream:  # `hybridtls check ... > report.txt`, from a shell that is 80 columns wide
        process = start("check", str(folder), "--now", "2016-02-20", stdout=stream, stderr=subprocess.PIPE,
                        env=environment(COLUMNS="80"))
        process.communicate(timeout=GUARD)
    unwrapped = to_file.read_text(encoding="utf-8")
    wrapped = run_cli("check", str(folder), "--now", "2016-02-20", "--width", "80").out
    named = _paths(unwrapped, folder)
    assert len(named) > 3 and all(Path(path).exists() for path in named)  # each path whole, on one line
    assert any(path.endswith("Get-MessageTrace.txt") for path in named)
    assert "Import-Certificate" in unwrapped and unwrapped.count("\n") < wrapped.count("\n")
    commands = [line for line in wrapped.splitlines() if line.lstrip().startswith("fix:")]
    assert commands and all("Import-Certificate" in line or len(line) <= 80 for line in commands)  # kept whole
    assert all(len(line) <= 80 for line in wrapped.splitlines()
               if not line.startswith("    ") and line not in commands)  # --width wraps the rest
    cut = _paths(wrapped, folder)
    assert len(cut) < len(named) or not all(Path(path).exists() for path in cut)  # ...and there paths are cut


def test_on_a_terminal_the_report_wraps_at_the_terminal_width_in_colour(tmp_path: Path) -> None:
    folder = _founding_case_at_a_long_path(tmp_path)
    terminal = Terminal(columns=80)
    process = start("check", str(folder), "--now", "2016-02-20", stdout=terminal.slave, stderr=subprocess.DEVNULL,
                    env=environment(TERM="xterm-256color"))
    terminal.start_reading()
    process.wait(GUARD)
    shown = terminal.finish()
    plain = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z]", b"", shown).decode().replace("\r\n", "\n")
    prose = [line for line in plain.splitlines()  # fixes, and the summary's one command, keep their lines whole
             if not line.startswith("    ") and not line.lstrip().startswith("fix:")]
    assert prose and max(len(line) for line in prose) <= 80
    assert COLOUR.search(shown)


@pytest.mark.parametrize(("env", "argv", "colour", "any_escape"), [
    ({}, [], False, False),  # a pipe: plain text
    ({"FORCE_COLOR": "1"}, [], True, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, [], False, True),  # styles (bold) stay, colours go, as NO_COLOR says
    ({}, ["--color", "always"], True, True),
    ({"NO_COLOR": "1"}, ["--color", "always"], True, True),  # the option wins over the environment
    ({"FORCE_COLOR": "1"}, ["--color", "never"], False, False),
])
def test_colour_follows_the_option_and_the_environment(env: dict[str, str], argv: list[str], colour: bool,
                                                        any_escape: bool) -> None:
    process = start("check", "founding-incident", "--now", "2016-02-20", *argv, cwd=CASES,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(TERM="xterm-256color", **env))
    out, _ = process.communicate(timeout=GUARD)
    assert bool(COLOUR.search(out)) is colour
    assert bool(ESCAPE.search(out)) is any_escape
    assert b"PASS" in out or b"FAIL" in out


def test_the_width_option_is_documented_and_bounded() -> None:
    for command in ("check", "probe"):
        process = start(command, "--help", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        helped = process.communicate(timeout=GUARD)[0].decode()
        assert "--width N" in helped and "--color {auto,always,never}" in helped
    run = run_cli("check", str(CASES / "founding-incident"), "--width", "5")
    assert run.code == 2 and "between 20 and 10000" in run.err and "Traceback" not in run.err


def test_markdown_has_no_html_entities_and_reads_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    out = run_cli("check", "founding-incident", "--now", "2016-02-20T09:00", "--format", "markdown").out
    prose = re.sub(r"```powershell\n.*?\n```", "", out, flags=re.S)
    assert re.findall(r"&#?\w+;", prose) == []
    assert "Office 365 -> on-premises" in prose
    rendered = MarkdownIt("commonmark").enable("table").render(out)
    assert "Office365user@domain.com -&gt; onpremuser@domain.com" in rendered  # one escaping, by the renderer
    assert "&amp;gt;" not in rendered


def test_the_html_matrix_marks_only_the_value_that_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    page = run_cli("check", "founding-incident", "--now", "2016-02-20T09:00", "--format", "html").out
    matrix = page[page.index('id="matrix"'):page.index("</table>", page.index('id="matrix"'))]
    assert re.findall(r'<mark class="differs">([^<]*)</mark>', matrix) == ["Registry"]  # not ThirdParty, not services
    cells = re.findall(r'<td class="value (\w+)"[^>]*>(.*?)</td>', matrix)
    assert [state for state, _ in cells] == ["odd", "ok"]
    assert "differs" not in cells[1][1] and "IIS, IMAP, POP, SMTP" in html.unescape(cells[0][1])
    style = page[page.index("<style"):page.index("</style>")]
    assert "td.odd" not in style  # the whole cell is no longer painted


MARKUP = st.sampled_from(list("<>&#;!?/-=*_`[]()|\\~+.:1aA ")) | st.sampled_from(
    ["<script>", "</b>", "<!--", "<?", "&amp;", "&#60;", "&#x3c;", "<https://x>", "1. ", "> ", "    ", "---"])


@given(st.lists(MARKUP | st.text(max_size=5), max_size=12).map("".join))
def test_markdown_text_reads_as_typed_and_opens_nothing(value: str) -> None:
    """Whatever the evidence says, a Markdown renderer shows it as one paragraph of the same text, no tag in it."""
    expected = inert(value, single_line=True).strip()
    rendered = MarkdownIt("commonmark").enable("table").render(text(value))
    if not expected:
        assert rendered.strip() == ""
        return
    body = re.fullmatch(r"<p>(.*)</p>\n", rendered, re.S)
    assert body is not None, rendered
    assert "<" not in body.group(1)  # no tag, comment, autolink or code span of the value's making
    assert html.unescape(body.group(1)).strip() == expected


def test_every_format_marks_a_partial_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    report = judge_evidence(["founding-incident"])
    partial = dataclasses.replace(report, partial=Interruption(reason="interrupted", done=2, total=3, unit="files"))
    assert not report.to_markdown().count("partial: interrupted")
    assert "**Partial: interrupted after 2 of 3 files.**" in partial.to_markdown()
    assert '<span class="count error partial">partial: interrupted after 2 of 3 files</span>' in partial.to_html()
    assert partial.failed and partial.verdict == "fail"
    shown = io.StringIO()
    partial.write("terminal", shown)
    verdict = next(line for line in shown.getvalue().splitlines() if line.startswith("FAIL"))
    assert verdict.endswith("partial: interrupted after 2 of 3 files")
