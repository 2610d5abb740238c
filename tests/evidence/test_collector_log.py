"""The collector's own log (``collector-log.txt``): what it could not collect becomes a notice; nothing else is read
from it, and a log with nothing missing is read without a word."""

from __future__ import annotations

import codecs
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from hybridtls.evidence.loader import load_evidence

LOG = """# hybridtls collector log
# Started by admin on EXCAS1; -Days 1
2026-11-30T09:25:01 COLLECTED Get-ExchangeCertificate -Server EXCAS1 (3 objects)
2026-11-30T09:25:09 NONE FrontEnd SmtpSend protocol logs of EXCAS1: no log files written since 2026-11-29 09:25
2026-11-30T09:25:12 NOT-COLLECTED Get-Queue -Server EXMBX1: The operation couldn't be performed because object 'EXMBX1' couldn't be found.
2026-11-30T09:25:19 NOT-COLLECTED Get-WinEvent -ComputerName EXMBX1.contoso.local (System: Schannel): The RPC server is unavailable
hybridtls collector: 1 items collected, 2 not collected
  not collected: Get-Queue -Server EXMBX1: The operation couldn't be performed because object 'EXMBX1' couldn't be found.
  not collected: Get-WinEvent -ComputerName EXMBX1.contoso.local (System: Schannel): The RPC server is unavailable
"""


def test_what_was_not_collected_is_a_notice_at_its_line(tmp_path: Path) -> None:
    log = tmp_path / "collector-log.txt"
    log.write_bytes(codecs.BOM_UTF8 + LOG.replace("\n", "\r\n").encode("utf-8"))  # as Out-File -Encoding utf8 writes
    evidence = load_evidence([str(tmp_path)])
    assert evidence.problems == () and evidence.skipped == ()
    assert [(n.source.line, n.message) for n in evidence.notices] == [
        (5, "the collector could not collect Get-Queue -Server EXMBX1: The operation couldn't be performed because "
            "object 'EXMBX1' couldn't be found."),
        (6, "the collector could not collect Get-WinEvent -ComputerName EXMBX1.contoso.local (System: Schannel): "
            "The RPC server is unavailable"),
    ]
    assert evidence.coverage is not None and evidence.coverage.files_read == 1


def test_a_log_with_nothing_missing_says_nothing(tmp_path: Path) -> None:
    log = tmp_path / "collector-log.txt"
    log.write_text("\n".join(line for line in LOG.splitlines() if "NOT-COLLECTED" not in line and "not collected:"
                             not in line) + "\n", encoding="utf-8")
    evidence = load_evidence([str(log)])
    assert evidence.problems == () and evidence.notices == ()
    assert evidence.coverage is not None and evidence.coverage.files_read == 1 and evidence.coverage.records == 0


_LINE = st.one_of(
    st.builds(lambda what: f"2026-11-30T09:25:12 NOT-COLLECTED {what}", st.text(st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=60).filter(lambda t: t.strip() == t)),
    st.builds(lambda what: f"2026-11-30T09:25:01 COLLECTED {what}", st.text("abc -", min_size=1, max_size=20)),
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40),  # text, as Out-File writes
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_LINE, max_size=30))
def test_every_not_collected_line_is_a_notice_at_its_own_line(lines: list[str]) -> None:
    """Whatever else the log holds, each NOT-COLLECTED line is one notice, at its line, with its text."""
    from hybridtls.evidence.collector_log import CollectorLogReader
    from hybridtls.evidence.interface import EvidenceFile

    text = "\n".join(["# hybridtls collector log", *lines]) + "\n"
    notices = list(CollectorLogReader().read(EvidenceFile("collector-log.txt", text.encode("utf-8"))))
    expected = [(number, line.split(" NOT-COLLECTED ", 1)[1]) for number, line in enumerate(lines, start=2)
                if " NOT-COLLECTED " in line and line[:4] == "2026"]
    assert [(n.source.line, n.message.removeprefix("the collector could not collect ")) for n in notices] == expected
