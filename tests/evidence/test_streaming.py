"""Readers yield records as they read: the first records of a large file come before the rest of it is split into
lines, and grouping that only the end of a file can decide (forum double-spacing) still comes out right."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hybridtls.evidence import console, interface, structured
from hybridtls.evidence.console import iter_console_text, read_console_text


def _counting_pieces(monkeypatch: pytest.MonkeyPatch, module: object) -> list[int]:
    taken: list[int] = []
    pieces = interface.pieces

    def counting(text: str, start: int = 0, size: int = 1 << 20) -> Iterator[str]:
        for piece in pieces(text, start, 4096):
            taken.append(len(piece))
            yield piece

    monkeypatch.setattr(module, "pieces", counting)
    return taken


def test_console_records_come_before_the_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _counting_pieces(monkeypatch, console)
    row = "Received         : 3/20/2026 8:00:00 AM\nSenderAddress    : a@contoso.com\nStatus           : Pending\n\n"
    records = iter_console_text(row * 5000, "trace.txt")
    first = next(records)
    assert first.get("Status").value.text == "Pending"  # type: ignore[union-attr]
    assert len(taken) <= 2  # of ~100 pieces
    assert sum(1 for _ in records) == 4999


def test_csv_rows_come_before_the_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _counting_pieces(monkeypatch, structured)
    text = '"Thumbprint","Services"\n' + '"AAAA","SMTP"\n' * 20000
    rows = structured.iter_csv(text, "certs.csv")
    assert next(rows).get("Services").value.text == "SMTP"  # type: ignore[union-attr]
    assert len(taken) <= 3  # the header's piece, and the first piece of rows
    assert sum(1 for _ in rows) == 19999


def test_spaced_paste_is_grouped_once_its_end_shows_it_is_spaced() -> None:
    """Blank lines between every property: the first segments read alone would be one-property records."""
    lines = ["Thumbprint : AAAA", "Services : SMTP", "RootCAType : Registry"] * 3
    records = read_console_text("\n\n".join(lines) + "\n", "paste.txt")
    assert [len(r.fields) for r in records] == [3, 3, 3]
    assert [r.source.line for r in records] == [1, 7, 13]


def test_ordinary_output_with_an_odd_record_is_not_grouped() -> None:
    """Most segments hold many properties: each is its own record, even one that shares no first property."""
    text = ("Thumbprint : AAAA\nServices : SMTP\n\n"
            "Services : IIS\nRootCAType : Registry\n\n"
            "Thumbprint : BBBB\nServices : SMTP\n\n"
            "Thumbprint : CCCC\nServices : SMTP\n")
    records = read_console_text(text, "certs.txt")
    assert [[f.label for f in r.fields] for r in records] == [
        ["Thumbprint", "Services"], ["Services", "RootCAType"], ["Thumbprint", "Services"], ["Thumbprint", "Services"]]


def test_records_that_repeat_a_shape_still_see_wraps_tables_and_prose() -> None:
    """Lines taken by the previous record's prefixes: a wrapped value, a table under a line of that shape, and a
    record cut short by prose are read as when each line is looked at afresh."""
    record = "Name     : {a.contoso.com,\n           b.contoso.com}\nServices : SMTP\n\n"
    table = "Name     : x\n-------- - -\n"
    text = record + record + "Name     : last\nsome prose that ends it\nServices : IIS\n\n" + record
    records = read_console_text(text, "shapes.txt")
    assert [r.get("Name").value.items for r in records[:2]] == [("a.contoso.com", "b.contoso.com")] * 2  # type: ignore[union-attr]
    assert [[f.label for f in r.fields] for r in records] == [["Name", "Services"]] * 2 + [["Name"], ["Services"]] + [
        ["Name", "Services"]]
    tabled = read_console_text(record + table + "AAAA     x y\n", "table.txt")
    assert [r.source.line for r in tabled] == [1, 7]
    assert tabled[1].get("Name").value.text == "AAAA"  # type: ignore[union-attr]


def test_records_without_blank_lines_come_before_the_file_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Get-MessageTrackingLog | fl`` pasted without blank lines: records are separated only by the first property
    repeating. They are passed on as the segment grows, not held until a blank line that never comes."""
    taken = _counting_pieces(monkeypatch, console)
    row = "RunspaceId : 5e1c\nEventId : DEFER\nSource : SMTP\n"
    records = iter_console_text(row * 20000, "tracking.txt")
    first = next(records)
    assert first.get("EventId").value.text == "DEFER"  # type: ignore[union-attr]
    assert len(taken) <= 8  # of ~250 pieces: the first records come once a thousand properties are read
    rest = list(records)
    assert len(rest) == 19999
    assert all(len(r.fields) == 3 for r in rest)
    assert rest[-1].source.line == 3 * 19999 + 1


def test_a_long_segment_is_cut_only_where_a_record_ends() -> None:
    """Cut at the start of the last record, a segment gives the records it gives whole: the cut point is where a
    property repeats, not where the first property repeats (``A B B A`` is the records ``A B`` and ``B A``)."""
    keys = ["A", "B", "B", "A", "C"] * 600
    text = "".join(f"{k} : {n}\n" for n, k in enumerate(keys))
    records = read_console_text(text, "odd.txt")
    expected: list[list[str]] = []
    seen: set[str] = set()
    for key in keys:
        if key in seen or not expected:
            expected.append([])
            seen = set()
        expected[-1].append(key)
        seen.add(key)
    assert [[f.label for f in r.fields] for r in records] == expected


def test_one_record_of_many_properties_stays_one_record() -> None:
    text = "".join(f"Property{n} : {n}\n" for n in range(5000))
    records = read_console_text(text, "wide.txt")
    assert [len(r.fields) for r in records] == [5000]


def test_table_rows_come_before_the_table_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are held only until enough of them line up to show the lines are a table, then passed on as read."""
    taken = _counting_pieces(monkeypatch, console)
    header = ("Thumbprint                                Services   Subject\n"
              "----------                                --------   -------\n")
    row = "AB" * 20 + "  IP.WS..    CN=mail.contoso.com\n"
    records = iter_console_text(header + row * 20000, "certs.txt")
    first = next(records)
    assert first.source.line == 3 and first.get("Services").value.text == "IP.WS.."  # type: ignore[union-attr]
    assert len(taken) <= 2  # of ~310 pieces
    rest = list(records)
    assert len(rest) == 19999 and rest[-1].source.line == 20002
