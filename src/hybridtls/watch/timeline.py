"""``hybridtls watch history``: what changed when, as text, JSON or one self-contained HTML page.

The changes are ``changes()`` between each round and the one before, read from the history a round at a time.
The HTML page is drawn in the report's style (its CSS, its Jinja2 environment: autoescaped, every value made inert
on one line) with a timeline per address as inline SVG: the certificate served as coloured segments labelled with
the thumbprint's start, the TLS versions accepted, and each round's verdict as a coloured mark.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hybridtls.report.escape import inert
from hybridtls.watch.changes import changes
from hybridtls.watch.model import Alert, Observation, Round

VERDICT_COLOURS = {"ok": "#12b76a", "info": "#84caff", "warning": "#f79009", "error": "#d92d20",
                   "unreachable": "#475467"}
_PALETTE = ("#2e90fa", "#9e77ed", "#16b364", "#ee46bc", "#f79009", "#06aed4", "#875bf7", "#66c61c", "#ef6820",
            "#6172f3")
WIDTH, LEFT = 1000, 4  # the SVG's viewBox width and its margin


class _Span:
    """The rounds a view reads, counted as they pass (a view says how many it read: never a silent answer)."""

    def __init__(self, rounds: Iterable[Round]) -> None:
        self._rounds = rounds
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    def __iter__(self) -> Iterator[Round]:
        for round_ in self._rounds:
            self.count += 1
            self.first = self.first or round_.started_at
            self.last = round_.started_at
            yield round_

    @property
    def words(self) -> str:
        if not self.count or self.first is None or self.last is None:
            return "no rounds"
        return f"{self.count} round(s), {self.first:%Y-%m-%d %H:%M} to {self.last:%Y-%m-%d %H:%M}"


def history_alerts(rounds: Iterable[Round]) -> Iterator[tuple[Round, Alert]]:
    """Each round's alerts after the one before it (the first round's: the faults it found), oldest first.
    Only two rounds are held at a time."""
    previous: Round | None = None
    for current in rounds:
        for alert in changes(previous, current, now=current.finished_at):
            yield current, alert
        previous = current


def changes_text(rounds: Iterable[Round]) -> str:
    """One line per change, oldest first: when, the round, the severity, the address and what changed."""
    span = _Span(rounds)
    lines = [f"{round_.started_at:%Y-%m-%d %H:%M:%S}  round {round_.number:<5} {alert.severity.value:<7} "
             + inert(alert.summary, single_line=True)
             for round_, alert in history_alerts(span)]
    if not span.count:
        return "The watch history holds no rounds.\n"
    if not lines:
        return f"No change in {span.words}.\n"
    return f"{len(lines)} change(s) in {span.words}:\n" + "\n".join(lines) + "\n"


def verdict(seen: Observation) -> str:
    """One word for an address in one round: unreachable, or the most severe finding about it, or ok."""
    if not seen.connected:
        return "unreachable"
    severities = {mark.severity.value for mark in seen.findings}
    return next((word for word in ("error", "warning", "info") if word in severities), "ok")


def _versions(seen: Observation) -> str:
    accepted = [version for version, ok in seen.versions_accepted if ok]
    if accepted:
        return " ".join(v.replace("TLSv", "") for v in accepted)
    return seen.tls_version or ("not tested" if seen.connected else "-")


@dataclass
class _Segment:
    start: int
    end: int  # inclusive: the index of the last round of the run
    value: str
    title: str
    colour: str = "#f2f4f7"
    text: str = ""  # drawn on the segment when it is wide enough


@dataclass
class _Lane:
    """One address across the rounds, as runs of rounds that said the same: the certificate, the TLS versions and
    the verdict (a steady address is one run of each, however many rounds it has been watched)."""

    label: str
    host: str
    address: str
    port: int
    certificates: list[_Segment] = field(default_factory=list)
    versions: list[_Segment] = field(default_factory=list)
    verdicts: list[_Segment] = field(default_factory=list)

    def add(self, index: int, round_: Round, seen: Observation) -> None:
        leaf = seen.leaf
        certificate = leaf.sha256 if leaf else ""
        _extend(self.certificates, index, certificate, lambda: _Segment(
            index, index, certificate, (f"{leaf.thumbprint} {leaf.subject} (NotAfter {leaf.not_after:%Y-%m-%d})"
                                        if leaf else f"no certificate: {seen.outcome}"),
            _colour(certificate) if leaf else "#f2f4f7", leaf.thumbprint[:8] if leaf else seen.outcome))
        versions = _versions(seen)
        _extend(self.versions, index, versions, lambda: _Segment(index, index, versions, f"TLS {versions}",
                                                                 text=versions))
        word = verdict(seen)
        shown = f"{word} ({seen.outcome})" if word == "unreachable" else word
        _extend(self.verdicts, index, shown, lambda: _Segment(index, index, shown, shown, VERDICT_COLOURS[word]))


def _extend(segments: list[_Segment], index: int, value: str, new: Any) -> None:
    if segments and segments[-1].value == value and segments[-1].end == index - 1:
        segments[-1].end = index
    else:
        segments.append(new())


def _colour(sha256: str) -> str:
    return _PALETTE[int(hashlib.sha256(sha256.encode()).hexdigest()[:8], 16) % len(_PALETTE)]


@dataclass
class _Timeline:
    rounds: list[tuple[int, datetime]] = field(default_factory=list)
    lanes: dict[str, _Lane] = field(default_factory=dict)
    alerts: list[tuple[Round, Alert]] = field(default_factory=list)

    def x(self, index: int) -> float:
        return round(LEFT + index * (WIDTH - 2 * LEFT) / max(len(self.rounds), 1), 1)

    def width(self, segment: _Segment) -> float:
        return max(round(self.x(segment.end + 1) - self.x(segment.start) - 1, 1), 1)

    def span(self, segment: _Segment) -> str:
        """The rounds a run covers, as a tooltip says them."""
        (first, began), (last, ended) = self.rounds[segment.start], self.rounds[segment.end]
        if first == last:
            return f"round {first}, {began:%Y-%m-%d %H:%M}"
        return f"rounds {first} to {last}, {began:%Y-%m-%d %H:%M} to {ended:%Y-%m-%d %H:%M}"

    def fits(self, segment: _Segment) -> bool:
        return self.width(segment) > 7 * len(segment.text) + 6


def _timeline(rounds: Iterable[Round]) -> _Timeline:
    timeline = _Timeline()
    previous: Round | None = None
    for index, current in enumerate(rounds):
        timeline.rounds.append((current.number, current.started_at))
        for seen in current.observations:
            lane = timeline.lanes.setdefault(seen.label, _Lane(seen.label, seen.host, seen.address, seen.port))
            lane.add(index, current, seen)
        timeline.alerts.extend((current, alert) for alert in changes(previous, current, now=current.finished_at))
        previous = current
    return timeline


def timeline_document(rounds: Iterable[Round]) -> dict[str, Any]:
    """``watch history --format json``: the rounds read, each address's runs and verdicts, and every change."""
    timeline = _timeline(rounds)
    numbers = [number for number, _ in timeline.rounds]
    return {
        "rounds": [{"number": number, "started_at": at.isoformat()} for number, at in timeline.rounds],
        "addresses": [{
            "label": lane.label, "host": lane.host, "address": lane.address, "port": lane.port,
            "certificates": [{"from_round": numbers[s.start], "to_round": numbers[s.end], "sha256": s.value or None,
                              "shown": s.title} for s in lane.certificates],
            "tls_versions": [{"from_round": numbers[s.start], "to_round": numbers[s.end], "accepted": s.value}
                             for s in lane.versions],
            "verdicts": [{"from_round": numbers[s.start], "to_round": numbers[s.end], "verdict": s.value.split()[0]}
                         for s in lane.verdicts],
        } for lane in timeline.lanes.values()],
        "changes": [_alert_document(round_, alert) for round_, alert in timeline.alerts],
    }


def _alert_document(round_: Round, alert: Alert) -> dict[str, Any]:
    return {"round": round_.number, "at": round_.started_at.isoformat(), "kind": alert.kind.value,
            "severity": alert.severity.value, "label": alert.label, "host": alert.host, "address": alert.address,
            "port": alert.port, "summary": alert.summary, "before": dict(alert.before), "after": dict(alert.after),
            "fix": alert.fix, "finding_key": alert.finding_key}


def timeline_json(rounds: Iterable[Round]) -> str:
    from hybridtls.report.json import dump_json

    return dump_json(timeline_document(rounds))


def timeline_html(rounds: Iterable[Round], *, title: str = "hybridtls watch history") -> str:
    """One self-contained page: no script, no fetch (the report's Content-Security-Policy), every value escaped."""
    from hybridtls._version import __version__
    from hybridtls.report.html import environment

    timeline = _timeline(rounds)
    counts = {severity: sum(1 for _, a in timeline.alerts if a.severity.value == severity)
              for severity in ("error", "warning", "info")}
    first, last = (timeline.rounds[0][1], timeline.rounds[-1][1]) if timeline.rounds else (None, None)
    template = environment().get_template("timeline.html.j2")
    return str(template.render(title=title, version=__version__, timeline=timeline, counts=counts, first=first,
                               last=last, colours=VERDICT_COLOURS, width=WIDTH,
                               alerts=timeline.alerts[::-1]))
