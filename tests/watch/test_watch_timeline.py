"""The watch history views: text (one line per change, oldest first), JSON, and one HTML page with a timeline per
address as inline SVG, every untrusted value escaped."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from factory import NOW
from watch_factory import label, observed, pki, probe, renewed

from hybridtls.model import ProbeOutcome
from hybridtls.watch.history import History
from hybridtls.watch.model import Round
from hybridtls.watch.timeline import changes_text, history_alerts, timeline_document, timeline_html, timeline_json

A, B = label("mail.contoso.com", "192.0.2.1"), label("mail.contoso.com", "192.0.2.2")


def story() -> list[Round]:
    """Five rounds: B stops answering in round 3 and is back in 4; A is renewed in round 5."""
    rounds = []
    for number in range(1, 6):
        a = probe("192.0.2.1", renewed(), pki().intermediate) if number == 5 else probe("192.0.2.1")
        b = probe("192.0.2.2", outcome=ProbeOutcome.TIMEOUT) if number == 3 else probe("192.0.2.2")
        rounds.append(observed(a, b, number=number, at=NOW + timedelta(hours=number)))
    return rounds


def test_changes_text_says_what_changed_when_oldest_first() -> None:
    text = changes_text(story())
    head, *lines = text.splitlines()
    assert head == f"{len(lines)} change(s) in 5 round(s), 2026-11-27 13:00 to 2026-11-27 17:00:"
    assert [line[:31] for line in lines] == sorted(line[:31] for line in lines)  # oldest first
    unreachable = next(line for line in lines if "no longer answers" in line)
    assert unreachable.startswith("2026-11-27 15:00:00  round 3     error   mail.contoso.com[192.0.2.2]:25")
    assert any(line.startswith("2026-11-27 16:00:00  round 4     info") and "answers again" in line for line in lines)
    assert any("round 5" in line and "serves another certificate" in line and A in line for line in lines)


def test_no_rounds_and_no_change_are_said_not_left_blank() -> None:
    assert changes_text([]) == "The watch history holds no rounds.\n"
    same = observed(probe("192.0.2.1"))
    assert changes_text([same, replace(same, number=2)]) == \
        "No change in 2 round(s), 2026-11-27 12:00 to 2026-11-27 12:00.\n"


def test_history_alerts_hold_two_rounds_at_a_time() -> None:
    rounds = story()
    taken: list[int] = []

    def reading() -> object:
        for round_ in rounds:
            taken.append(round_.number)
            yield round_

    stream = history_alerts(reading())  # type: ignore[arg-type]
    first_round, _ = next(stream)
    assert first_round.number == 3 and taken == [1, 2, 3]  # nothing read ahead of the first change (round 3)


HOSTILE = "CN=<script>alert(1)</script>\"' onmouseover=x \u202eexe.pdf\nforged line"


def hostile_rounds() -> list[Round]:
    first = observed(probe("192.0.2.1"))
    seen = first.observations[0]
    assert seen.leaf is not None
    evil = replace(seen, host="<b>mail</b>", leaf=replace(seen.leaf, sha256="e" * 64, subject=HOSTILE,
                                                             thumbprint="<img src=x>" + "A" * 30, issuer=HOSTILE))
    return [replace(first, observations=(replace(seen, host="<b>mail</b>"),)),
            replace(first, number=2, started_at=NOW + timedelta(hours=1), observations=(evil,))]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_html_page_escapes_every_untrusted_value() -> None:
    page = timeline_html(hostile_rounds())
    parsed = _Elements()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert "onmouseover" not in parsed.attributes
    assert "\u202e" not in page and "\\u202e" in page  # the bidi override shown, not obeyed
    assert "\nforged line" not in page and "\\nforged line" in page
    assert "&lt;script&gt;" in page and "default-src 'none'" in page
    shown = "".join(parsed.text)
    assert "<b>mail</b>[192.0.2.1]:25" in shown  # the host shown as the text it is


def test_the_text_view_escapes_too() -> None:
    text = changes_text(hostile_rounds())
    assert "\u202e" not in text and "\\u202e" in text
    assert not any(line.startswith("forged line") for line in text.splitlines())


def test_the_html_page_draws_a_timeline_per_address() -> None:
    rounds = story()
    page = timeline_html(rounds)
    assert page.count("<svg ") == 2 and f"timeline of {A}" in page and f"timeline of {B}" in page
    a_first = rounds[0].observations[0].leaf
    a_last = rounds[-1].observations[0].leaf
    assert a_first is not None and a_last is not None
    assert f">{a_first.thumbprint[:8]}</text>" in page and f">{a_last.thumbprint[:8]}</text>" in page
    assert "round 3, 2026-11-27 15:00: unreachable (timeout)</title>" in page  # B's verdict in round 3
    assert "rounds 1 to 4, 2026-11-27 13:00 to 2026-11-27 16:00: " in page  # A's first certificate, one run
    assert page.index("serves another certificate") < page.index("no longer answers")  # newest first


def test_the_json_view_keeps_runs_and_changes() -> None:
    document = json.loads(timeline_json(story()))
    assert [r["number"] for r in document["rounds"]] == [1, 2, 3, 4, 5]
    a, b = document["addresses"]
    assert (a["label"], b["label"]) == (A, B)
    assert [(s["from_round"], s["to_round"]) for s in a["certificates"]] == [(1, 4), (5, 5)]
    assert [(s["from_round"], s["to_round"], s["sha256"] is None) for s in b["certificates"]] == [
        (1, 2, False), (3, 3, True), (4, 5, False)]
    assert [(v["from_round"], v["to_round"], v["verdict"]) for v in b["verdicts"]] == [
        (1, 2, "ok"), (3, 3, "unreachable"), (4, 5, "ok")]
    kinds = [(c["round"], c["kind"], c["label"]) for c in document["changes"]]
    assert (3, "unreachable", B) in kinds and (4, "recovered", B) in kinds and (5, "certificate_changed", A) in kinds
    assert document == timeline_document(story()) | {}


def test_the_views_read_the_same_from_the_history_file(tmp_path: Path) -> None:
    rounds = story()
    with History.open(tmp_path / "w.db") as history:
        for round_ in rounds:
            history.record(round_)
    with History.open(tmp_path / "w.db", create=False) as history:
        assert changes_text(history.rounds()) == changes_text(rounds)
        assert timeline_document(history.rounds(since=rounds[2].started_at)) == timeline_document(rounds[2:])


def test_a_steady_address_is_drawn_the_same_size_however_long_it_was_watched() -> None:
    steady = observed(probe("192.0.2.1"), probe("192.0.2.2"))

    def page(count: int) -> str:
        return timeline_html(replace(steady, number=n, started_at=NOW + timedelta(minutes=5 * n))
                             for n in range(1, count + 1))

    short, long = page(10), page(500)
    assert long.count("<rect") == short.count("<rect") == 2 * 3  # one run per band per address
    assert len(long) - len(short) < 200  # only the counts and dates in the header differ
