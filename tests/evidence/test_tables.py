"""Default tables as real consoles and forum pastes show them: indented, without the line of dashes, blank lines
between rows, thumbprints masked or cut, cells cut with ``...``; and what is not a table row is named, never shifted
into the columns."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import FIXTURES, certificate, format_list
from hypothesis import assume, given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.blocks import ConsoleReader
from hybridtls.evidence.console import TABLE_COLUMNS, read_console_text
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.kinds import KINDS, BuildContext, classify
from hybridtls.evidence.kinds.certificate import build_certificate
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.raw import RawRecord, canonical_key
from hybridtls.model import Notice

TABLES = FIXTURES / "tables"
CERTIFICATE_COLUMNS = [0, 42, 53]  # Thumbprint, Services, Subject as Get-ExchangeCertificate prints them


def cells(record: RawRecord) -> list[tuple[str, str]]:
    return [(f.label, f.value.text) for f in record.fields]


def read(path: Path) -> tuple[list[RawRecord], list[Notice]]:
    notices: list[Notice] = []
    records = read_console_text(path.read_text(encoding="utf-8"), path.name, notices)
    return records, notices


def laid_out(values: list[str], starts: list[int]) -> str:
    line = ""
    for value, start in zip(values, starts):
        line = line.ljust(start) + value
    return line.rstrip()


def test_an_indented_table_without_dashes_and_with_blank_lines_between_rows() -> None:
    records, notices = read(TABLES / "forum-2010-indented.txt")
    assert [r.source.line for r in records] == [6, 8, 10, 12]
    assert [cells(r) for r in records] == [
        [("Thumbprint", "3F2A..."), ("Services", "IP.WS."),
         ("Subject", "CN=mail.fabrikam.com, OU=IT, O=Fabrikam Inc, L=Seattle, S=Washingto...")],
        [("Thumbprint", "*" * 40), ("Services", "....S."), ("Subject", "CN=EXHUB01")],
        [("Thumbprint", "7D1C09B2E4F5A6071829304A5B6C7D8"), ("Services", "IP.WS."),
         ("Subject", "CN=EXHUB01.corp.fabrikam.local")],
        [("Thumbprint", "xxxxx"), ("Services", "......"), ("Subject", "CN=WMSvc-EXHUB01")],
    ]
    first = records[0]
    assert first.get("Thumbprint").value.truncated and first.get("Subject").value.truncated  # type: ignore[union-attr]
    assert not records[1].get("Subject").value.truncated  # type: ignore[union-attr]
    assert notices == []  # the prose around the table is passed over, as it always was


def test_masked_or_cut_thumbprints_are_kept_as_given_and_never_used_as_thumbprints() -> None:
    evidence = load_evidence([str(TABLES / "forum-2010-indented.txt")])
    assert [c.thumbprint for c in evidence.certificates] == [None] * 4
    said = {(n.source.line, n.message.split(";")[0]) for n in evidence.notices}
    assert {(6, "Thumbprint is cut short ('3F2A...')"),
            (8, f"Thumbprint {'*' * 40!r} is masked or malformed"),
            (10, "Thumbprint '7D1C09B2E4F5A6071829304A5B6C7D8' is masked or malformed"),
            (12, "Thumbprint 'xxxxx' is masked or malformed")} <= said
    assert [c.services for c in evidence.certificates] == [
        frozenset({"IMAP", "POP", "IIS", "SMTP"}), frozenset({"SMTP"}), frozenset({"IMAP", "POP", "IIS", "SMTP"}),
        frozenset()]


@pytest.mark.parametrize("flags", ["IP.WS", "IP.WS.", "IP.WS..", "IPUWS..", "IP.WSF."])
def test_service_flags_of_every_version_read_as_the_word_list(flags: str) -> None:
    table = "Thumbprint                                Services   Subject\n" + laid_out(
        ["AB" * 20, flags, "CN=mail.fabrikam.com"], CERTIFICATE_COLUMNS) + "\n"
    [row] = read_console_text(table, "t.txt")
    [listed] = read_console_text(format_list(certificate(Services="IMAP, POP, IIS, SMTP")), "fl.txt")
    ctx = BuildContext(path="t.txt", date_order=None, server=None)
    words = build_certificate(listed, ctx).services
    assert words == frozenset({"IMAP", "POP", "IIS", "SMTP"})
    extra = {"U": "UM", "F": "Federation"}
    assert build_certificate(row, ctx).services == words | {extra[ch] for ch in flags if ch in extra}


@pytest.mark.parametrize(("flags", "services"), [("....S.", {"SMTP"}), ("...W..", {"IIS"}), ("......", set()),
                                                 (".......", set()), ("....S..", {"SMTP"})])
def test_dots_are_services_not_bound(flags: str, services: set[str]) -> None:
    text = laid_out(["Thumbprint", "Services"], [0, 42]) + "\n" + laid_out(["AB" * 20, flags], [0, 42]) + "\n"
    [row] = read_console_text(text, "t.txt")
    cert = build_certificate(row, BuildContext(path="t.txt", date_order=None, server=None))
    assert cert.services == frozenset(services) and not cert.services_truncated


def test_an_unknown_flag_in_the_last_places_is_said_and_the_others_read() -> None:
    [row] = read_console_text(laid_out(["Thumbprint", "Services"], [0, 42]) + "\n"
                              + laid_out(["AB" * 20, "....S.X"], [0, 42]) + "\n", "t.txt")
    ctx = BuildContext(path="t.txt", date_order=None, server=None)
    assert build_certificate(row, ctx).services == frozenset({"SMTP"})
    assert [(n.source.line, n.message) for n in ctx.notices] == [
        (2, "Services '....S.X': the flag 'X' is not one hybridtls knows; the others are read")]


def test_letters_out_of_their_places_are_not_read_as_service_flags() -> None:
    [row] = read_console_text(laid_out(["Thumbprint", "Services"], [0, 42]) + "\n"
                              + laid_out(["AB" * 20, "SW.IP.."], [0, 42]) + "\n", "t.txt")
    services = build_certificate(row, BuildContext(path="t.txt", date_order=None, server=None)).services
    assert services is not None and "SMTP" not in services and "IIS" not in services


def test_a_row_that_does_not_line_up_is_named_and_not_read() -> None:
    records, notices = read(TABLES / "reply-quoted-table.txt")
    assert [r.source.line for r in records] == [5, 6]
    assert [r.get("Thumbprint").value.text for r in records] == [  # type: ignore[union-attr]
        "9C4E0B2A7F11D3E5A8B6C4D2E0F1A3B5C7D9E1F3", "2B7D5F9A0C3E1B4D6F8A0C2E4B6D8F0A1C3E5B7D"]
    assert all(r.command == "Get-ExchangeCertificate -Server EXHUB01" for r in records)
    [notice] = notices
    assert notice.source == notice.source.__class__(path="reply-quoted-table.txt", line=7)
    assert notice.message == "not read as a row of the table headed on line 3: its text runs into column 'Services'"
    evidence = load_evidence([str(TABLES / "reply-quoted-table.txt")])  # and the loader keeps what the reader said
    assert any(n.source.line == 7 and "runs into column 'Services'" in n.message for n in evidence.notices)
    assert len(evidence.certificates) == 2


def test_a_row_shifted_right_is_named_with_its_column() -> None:
    header = laid_out(["Thumbprint", "Services", "Subject"], CERTIFICATE_COLUMNS)
    shifted = laid_out(["AB" * 20, "IP.WS..", "CN=x"], [0, 44, 53])  # Services two places right of its column
    good = laid_out(["CD" * 20, "....S..", "CN=y"], CERTIFICATE_COLUMNS)
    notices: list[Notice] = []
    records = read_console_text("\n".join([header, "-" * 10, good, shifted, good]) + "\n", "s.txt", notices)
    assert records == []  # the dashes are not under the header's words: no table, and nothing is guessed
    assert [(n.source.line, n.message) for n in notices] == [
        (1, "line 1 reads as a table header, but line 2 under it is not a row of it (dashes that do not start under "
            "its words); neither is read")]
    notices.clear()
    underline = laid_out(["-" * 10, "-" * 8, "-" * 7], CERTIFICATE_COLUMNS)
    records = read_console_text("\n".join([header, underline, good, shifted, good]) + "\n", "s.txt", notices)
    assert [r.source.line for r in records] == [3, 5]
    assert [(n.source.line, n.message) for n in notices] == [
        (4, "not read as a row of the table headed on line 1: its text under 'Services' starts right of where the "
            "column does")]


def test_get_queue_without_dashes_with_right_aligned_counts() -> None:
    records, notices = read(TABLES / "get-queue-no-dashes.txt")
    assert notices == []
    assert [r.source.line for r in records] == [4, 5, 6]
    assert [f.label for f in records[0].fields] == ["Identity", "DeliveryType", "Status", "MessageCount", "Velocity",
                                                    "RiskLevel", "OutboundIPPool", "NextHopDomain"]
    assert cells(records[1]) == [("Identity", "EXHUB01\\21"), ("DeliveryType", "SmartHost..."), ("Status", "Retry"),
                                 ("MessageCount", "47"), ("Velocity", "0"), ("RiskLevel", "Normal"),
                                 ("OutboundIPPool", "0"), ("NextHopDomain", "fabrikam-com.mail.protection.o...")]
    assert records[1].get("NextHopDomain").value.truncated  # type: ignore[union-attr]
    assert {classify(r).name for r in records} == {"Queue"}  # type: ignore[union-attr]
    assert records[0].command == "Get-Queue -Server EXHUB01"


@pytest.mark.parametrize("prose", [
    "Thumbprint Services Subject",  # single-spaced: a sentence, not a table padded to its columns
    "Thumbprint  Services  Subject  and more words",  # a word no cmdlet has
    "Services  Services",  # a column twice
    "Thumbprint",  # one column
])
def test_lines_of_property_names_that_are_not_a_header(prose: str) -> None:
    row = laid_out(["AB" * 20, "IP.WS..", "CN=x"], [0, 12, 22])
    assert read_console_text(f"{prose}\n{row}\n", "p.txt") == []


def test_a_header_of_known_names_over_a_line_that_does_not_line_up_says_so() -> None:
    notices: list[Notice] = []
    text = "Thumbprint  Services  Subject\nAB12... IP.WS.. CN=mail.fabrikam.com\n"  # spacing lost in the paste
    assert read_console_text(text, "p.txt", notices) == []
    [notice] = notices
    assert notice.source.line == 1
    assert notice.message == ("line 1 reads as a table header, but line 2 under it is not a row of it (its text runs "
                              "into column 'Services'); neither is read")
    with pytest.raises(EvidenceError) as raised:  # a file of nothing else: the error says why
        list(ConsoleReader().read(EvidenceFile("p.txt", text.encode())))
    assert raised.value.line == 1 and "line 2 under it is not a row" in raised.value.message


def _garbage(rng: random.Random, lines: int, *, blank_between: bool) -> list[str]:
    words = ("the quick brown fox jumps over lazy dog lorem ipsum dolor sit amet Thumbprint Services Subject Status "
             "Name Identity IP.WS.. CN=mail.contoso.com").split()
    out = []
    for _ in range(lines):
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 12))))
        if blank_between:
            out.append("")
    return out


@pytest.mark.parametrize(("header", "blank_between"), [
    (["Thumbprint                                Services   Subject",
      "----------                                --------   -------"], False),
    (["Thumbprint                                Services   Subject"], True),
    (["    Thumbprint   Services   Subject"], False),
    (["lorem ipsum   dolor sit   amet", "----- -----   ----- ---   ----"], False),
])
def test_random_text_under_a_header_gives_no_certificate_records_and_says_what_was_not_read(
        tmp_path: Path, header: list[str], blank_between: bool) -> None:
    path = tmp_path / "garbage.txt"
    path.write_text("\n".join(header + _garbage(random.Random(7), 3000, blank_between=blank_between)) + "\n")
    evidence = load_evidence([str(path)])
    assert evidence.certificates == ()
    said = list(evidence.notices) + list(evidence.problems)
    if header[0].startswith("lorem"):  # no known column: rows of an unknown kind, or nothing
        assert all(classify(r) is None for r in read_console_text(path.read_text(), "g.txt"))
        return
    assert said, "nothing said about 3,000 lines that were not read"
    assert all(s.source.path == str(path) and s.source.line for s in said)
    assert any(words in s.message for s in said for words in ("not read as a row", "not a row of it", "line up"))
    assert len(evidence.notices) <= 25  # named one by one up to a limit, then counted


def test_random_text_after_a_real_record_leaves_the_record_and_names_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    header = ["Thumbprint                                Services   Subject",
              "----------                                --------   -------"]
    garbage = _garbage(random.Random(3), 500, blank_between=False)
    path.write_text(format_list(certificate()) + "\n".join(header + garbage) + "\n")
    evidence = load_evidence([str(path)])
    assert [c.thumbprint for c in evidence.certificates] == ["A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"]
    first = len(format_list(certificate()).splitlines()) + 1  # the header's line
    rejected = [n for n in evidence.notices if "so this is not taken for a table" in n.message]
    assert len(rejected) == 1 and f"under the table header on line {first}" in rejected[0].message
    counted = [n for n in evidence.notices if "more lines under the table header" in n.message]
    assert len(counted) == 1


def test_a_second_table_after_blank_lines_is_its_own_table_not_rows_of_the_first() -> None:
    header = laid_out(["Thumbprint", "Services", "Subject"], CERTIFICATE_COLUMNS)
    underline = laid_out(["-" * 10, "-" * 8, "-" * 7], CERTIFICATE_COLUMNS)
    text = "\n".join([header, underline, laid_out(["AB" * 20, "IP.WS..", "CN=ex1"], CERTIFICATE_COLUMNS), "", "",
                      header, "", laid_out(["CD" * 20, "....S..", "CN=ex2"], CERTIFICATE_COLUMNS), "",
                      laid_out(["EF" * 20, "....S..", "CN=ex2b"], CERTIFICATE_COLUMNS), "", "",
                      "RootCAType : Registry", "Status     : Valid", ""])
    records = read_console_text(text, "two.txt")
    assert [(r.source.line, r.fields[0].value.text) for r in records] == [
        (3, "AB" * 20), (8, "CD" * 20), (10, "EF" * 20), (13, "Registry")]
    assert [f.label for f in records[-1].fields] == ["RootCAType", "Status"]  # Format-List after a table


def test_a_paste_that_doubled_every_line_break_keeps_its_dashes_and_rows() -> None:
    header = laid_out(["Thumbprint", "Services", "Subject"], CERTIFICATE_COLUMNS)
    underline = laid_out(["-" * 10, "-" * 8, "-" * 7], CERTIFICATE_COLUMNS)
    rows = [laid_out([f"{n}B" * 20, "IP.WS..", f"CN=ex{n}"], CERTIFICATE_COLUMNS) for n in range(1, 4)]
    notices: list[Notice] = []
    records = read_console_text("\n\n".join([header, underline, *rows, "Thanks in advance!"]) + "\n", "d.txt", notices)
    assert [(r.source.line, r.get("Subject").value.text) for r in records] == [  # type: ignore[union-attr]
        (5, "CN=ex1"), (7, "CN=ex2"), (9, "CN=ex3")]
    assert notices == []


def test_a_table_printed_without_blank_lines_ends_at_one() -> None:
    """What follows a blank line under such a table is the rest of the text: a sentence that happens to line up with
    the columns is not read as a row."""
    header = laid_out(["Thumbprint", "Services", "Subject"], CERTIFICATE_COLUMNS)
    row = laid_out(["AB" * 20, "IP.WS..", "CN=ex1"], CERTIFICATE_COLUMNS)
    sentence = laid_out(["So the old certificate is still there and", "bound to", "SMTP, right?"], CERTIFICATE_COLUMNS)
    records = read_console_text("\n".join([header, row, "", sentence]) + "\n", "t.txt")
    assert [r.source.line for r in records] == [2]


def test_every_property_a_kind_reads_may_head_a_table_column() -> None:
    consumed = set().union(*(set().union(*k.required) | k.indicative | k.date_fields for k in KINDS))
    assert consumed - TABLE_COLUMNS == set()


@pytest.mark.parametrize(("header", "kind"), [
    (["Thumbprint", "Services", "Subject"], "ExchangeCertificate"),
    (["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain"], "Queue"),
    (["Received", "Sender Address", "Recipient Address", "Subject", "Status"], "MessageTrace"),
])
def test_a_default_header_without_dashes_reads_as_its_cmdlet(header: list[str], kind: str) -> None:
    starts = [0]
    for label in header[:-1]:
        starts.append(starts[-1] + max(len(label), 22) + 2)
    values = [f"v{n}x" for n in range(len(header))]
    [record] = read_console_text(laid_out(header, starts) + "\n" + laid_out(values, starts) + "\n", "h.txt")
    assert [f.label for f in record.fields] == header
    assert classify(record).name == kind  # type: ignore[union-attr]


# ---------------------------------------------------------------- properties

_SINGLE = sorted(label for label in ("Thumbprint", "Services", "Subject", "Issuer", "NotAfter", "Status", "Identity",
                                     "DeliveryType", "MessageCount", "Velocity", "RiskLevel", "NextHopDomain", "Name",
                                     "Enabled", "Received", "Size", "Fqdn", "Bindings", "EventId", "Source"))
_CELL = st.text(alphabet="abcXYZ019=,.-_@\\/()é漢", min_size=1, max_size=14).map(str.strip).filter(bool)
_WORDS = st.lists(_CELL, min_size=1, max_size=3).map(" ".join)


@st.composite
def _tables(draw: st.DrawFn) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """A table as PowerShell lays one out, then pasted: columns padded to their widest cell and one space apart,
    counts right-aligned under a label as wide as the column; indented as a whole, with or without its dashes,
    blank lines between rows or not."""
    labels = draw(st.lists(st.sampled_from(_SINGLE), min_size=2, max_size=5, unique=True))
    for size in range(2, 5):  # no run of labels one space apart may name another property (EventId = Event Id)
        for at in range(len(labels) - size + 1):
            assume(canonical_key("".join(labels[at:at + size])) not in TABLE_COLUMNS)
    numeric = [k > 0 and draw(st.booleans()) for k in range(len(labels))]
    count = draw(st.integers(min_value=1, max_value=6))
    rows = []
    for _ in range(count):
        row = []
        for k, label in enumerate(labels):
            if numeric[k]:
                row.append(str(draw(st.integers(min_value=0, max_value=10 ** min(len(label), 6) - 1))))
            elif k < 2:  # a row fills its first two columns at least
                row.append(draw(_WORDS) + ("1" if k == 0 else ""))  # a digit: a row is never a header
            else:
                row.append(draw(st.one_of(st.just(""), _WORDS)))
        rows.append(row)
    widths = [len(label) if numeric[k] else max(len(label), *(len(r[k]) for r in rows)) + draw(st.integers(0, 3))
              for k, label in enumerate(labels)]
    widths[0] += 1  # a padded column somewhere: what tells a header from a sentence of property names
    indent = draw(st.integers(min_value=0, max_value=8))
    underlined = draw(st.booleans())

    def line(values: list[str]) -> str:
        out = " " * indent
        for k, value in enumerate(values):
            out += (value.rjust(widths[k]) if numeric[k] else value.ljust(widths[k])) + " "
        return out.rstrip()

    lines = [draw(st.sampled_from(["", "Here is what the shell shows:"])), "", line(labels)]
    if underlined:
        lines.append(line(["-" * len(label) for label in labels]))
    spaced = draw(st.booleans())  # a forum paste: a blank line or two before every row, the first too
    expected = []
    for row in rows:
        lines.extend([""] * (draw(st.integers(min_value=1, max_value=2)) if spaced else 0))
        lines.append(line(row))
        expected.append((len(lines), row))
    # After the table: prose, unless the paste is spaced (a sentence may then line up with the columns by chance)
    lines.extend(["", "", "That is all of it." if not spaced else "PS C:\\> Get-Date"])
    return "\n".join(lines) + "\n", labels, expected


@given(_tables())
def test_any_table_laid_out_as_powershell_does_reads_back_as_its_rows(
        table: tuple[str, list[str], list[tuple[int, list[str]]]]) -> None:
    text, labels, expected = table
    notices: list[Notice] = []
    records = [r for r in read_console_text(text, "gen.txt", notices) if r.fields[0].label == labels[0]]
    assert notices == []
    assert [(r.source.line, [f.label for f in r.fields]) for r in records] == [(n, labels) for n, _ in expected]
    assert [[f.value.text for f in r.fields] for r in records] == [row for _, row in expected]


_TABLEISH = st.lists(st.one_of(
    st.sampled_from(["Thumbprint                                Services   Subject", "    Thumbprint  Services",
                     "----------                                --------   -------", "", "  ---- ----",
                     "Identity  DeliveryType Status MessageCount", "PS C:\\> Get-Queue", "> quoted  line",
                     "Name : value", "AB12  IP.WS..  CN=x", "           0        12 Normal"]),
    st.text(alphabet=" -.:>ab1\t\u00a0IPWS", max_size=60)), max_size=40).map("\n".join)


@given(_TABLEISH)
def test_text_that_looks_like_tables_reads_without_crashing(text: str) -> None:
    notices: list[Notice] = []
    for record in read_console_text(text, "any.txt", notices):
        assert record.fields and all(f.line >= 1 for f in record.fields)
    assert all(n.source.line and n.source.line >= 1 for n in notices)
    try:
        list(ConsoleReader().read(EvidenceFile("any.txt", text.encode())))
    except EvidenceError:
        pass
