"""A file's format is decided per block: JSON and CSV output quoted in prose or console text are read as such, each
as what the prompt just above it ran; a Start-Transcript header names its machine; a web page's entities read as
the characters they stand for. Lines are always the file's."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from conftest import FIXTURES, certificate, format_list, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

import hybridtls
from hybridtls.evidence.blocks import iter_blocks
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import ServerBasis

NOW = datetime(2027, 4, 1)
POST = FIXTURES / "pastes" / "forum-post.txt"


def test_a_forum_post_reads_every_block_with_its_own_line_and_server() -> None:
    evidence = load_evidence([str(POST)])
    lines = POST.read_text().splitlines()
    placed = [(c.source.line, c.server.name if c.server else None, c.root_ca_type.value if c.root_ca_type else None)
              for c in evidence.certificates]
    assert placed == [(11, "EXFE01", "Registry"), (31, "EXBE01", "ThirdParty"), (50, "EXFE01", "ThirdParty")]
    assert lines[10].startswith("AccessRules") and lines[30].strip() == "{" and lines[49].startswith("RootCAType")
    [queue] = evidence.queues
    assert (queue.identity, queue.status, queue.message_count, queue.source.line) == ("EXFE01\\14", "Retry", 212, 43)
    assert queue.server == "EXFE01"  # from its Identity: the CSV sits under prose, not under a prompt


def test_the_post_judges_the_later_state_and_names_the_earlier_one_fixed() -> None:
    report = hybridtls.check(POST, now=NOW)
    roots = [(f.severity.value, f.fixed_at.line if f.fixed_at else None) for f in report.findings
             if f.check_id == "HT-ROOT-001"]
    assert roots == [("info", 50)]
    assert {f.check_id for f in report.findings} >= {"HT-ERR-001", "HT-QUEUE-001"}
    [current] = [c for c in report.evidence.certificates if c.server and c.server.name == "EXFE01"]
    assert current.not_after == datetime(2027, 9, 14, 23, 59, 59)  # kept from the full listing above the update


def test_prose_that_opens_with_a_brace_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "update.txt"
    path.write_text("{Update 2026-11-30} still broken after the renewal:\n\n" + format_list(certificate()))
    assert len(load_evidence([str(path)]).certificates) == 1


def test_json_then_prose_reads_both(tmp_path: Path) -> None:
    path = tmp_path / "reply.txt"
    path.write_text(json.dumps([{"Thumbprint": "A" * 40, "RootCAType": "Registry", "Services": "SMTP"}], indent=2)
                    + "\n\nand the other server:\n" + format_list(certificate(Thumbprint="B" * 40)))
    assert [c.thumbprint for c in load_evidence([str(path)]).certificates] == ["A" * 40, "B" * 40]


def test_json_cut_short_is_still_said_to_be_cut(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text('[{"Thumbprint": "AB", "Services": ')
    run = run_cli("check", str(path))
    assert run.code == 2 and "not valid JSON" in run.err


def test_a_transcript_names_its_machine_and_says_so(tmp_path: Path) -> None:
    header = ("**********************\r\nWindows PowerShell transcript start\r\nStart time: 20261130081502\r\n"
              "Machine: EXCAS1 (Microsoft Windows NT 10.0.17763.0)\r\n**********************\r\n")
    path = tmp_path / "corpus" / "t.txt"
    path.parent.mkdir()
    path.write_bytes((header + "PS C:\\> Get-ExchangeCertificate |\r\n>> fl\r\n"
                      + format_list(certificate()).replace("\n", "\r\n")).encode("utf-16"))
    [cert] = load_evidence([str(path)]).certificates
    assert cert.server is not None and (cert.server.name, cert.server.basis) == ("EXCAS1", ServerBasis.TRANSCRIPT)
    [given_server] = load_evidence([str(path)], servers=_given("EXCAS9")).certificates
    assert given_server.server is not None and given_server.server.name == "EXCAS9"


def _given(name: str):  # type: ignore[no-untyped-def]
    from hybridtls.evidence.attribution import server_assignments

    return server_assignments([name])


def test_a_web_page_s_entities_read_as_characters_and_keep_lines(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_text("```\n[PS] C:\\&gt;Get-ExchangeCertificate -Server &quot;EXMBX2&quot; | fl\n\n"
                    + format_list(certificate(Issuer="CN=R11, O=Let&#39;s Encrypt, C=US", Subject="CN=a&#10;b"))
                    + "```\n")
    evidence = load_evidence([str(path)])
    [cert] = evidence.certificates
    assert cert.issuer == "CN=R11, O=Let's Encrypt, C=US" and cert.subject == "CN=a&#10;b"
    assert cert.server is not None and cert.server.name == "EXMBX2"
    assert cert.source.line == path.read_text().splitlines().index("AccessRules        : {System.Security."
                                                                   "AccessControl.CryptoKeyAccessRule, System.Security"
                                                                   ".AccessControl.CryptoKeyAccessRule}") + 1
    assert any("HTML entities" in n.message for n in evidence.notices)


_PROSE = st.text(st.sampled_from("abc ,.:"), min_size=1, max_size=40).map(lambda t: "Note " + t.strip(" :") + ".")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["json", "csv", "list"]), st.integers(0, 999), _PROSE), min_size=1,
                max_size=5))
def test_blocks_in_any_order_read_back_as_written(blocks: list[tuple[str, int, str]]) -> None:
    """Each block's records come back in order, on the line where each was written, whatever surrounds them."""
    text = ""
    expected: list[tuple[str, int]] = []
    for kind, number, prose in blocks:
        thumbprint = f"{number:040X}"
        text += prose + "\n\n"
        line = text.count("\n") + 1
        if kind == "json":
            text += json.dumps([{"Thumbprint": thumbprint, "Services": "SMTP"}], indent=2) + "\n\n"
            line += 1  # the object's opening brace
        elif kind == "csv":
            text += f'"Thumbprint","Services"\n"{thumbprint}","SMTP"\n\n'
            line += 1
        else:
            text += f"Thumbprint : {thumbprint}\nServices   : SMTP\n\n"
        expected.append((thumbprint, line))
    records = list(iter_blocks(text, "post.txt"))
    assert [(r.get("Thumbprint").value.text, r.source.line) for r in records  # type: ignore[union-attr]
            if r.get("Thumbprint")] == expected


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from('[]{}",:\n abc#TYPE\\'), max_size=300))
def test_any_text_of_brackets_and_commas_reads_without_an_exception(text: str) -> None:
    list(iter_blocks(text, "noise.txt"))
