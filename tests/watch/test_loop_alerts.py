"""The watch loop's alerting and bookkeeping across rounds (issue 11): reminders with --renotify on a fake clock,
when each address's certificate last changed (across a timeout and a restart), /metrics right after a restart,
one --concurrency for the whole round, and a round that did not probe every address said to be incomplete."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta
from pathlib import Path

from factory import NOW
from watch_factory import count_connections, observed, probe, renewed
from webhook import Receiver

from hybridtls.model import ProbeOutcome
from hybridtls.pipeline import ProbeOptions
from hybridtls.smtp.targets import parse_target
from hybridtls.watch.history import History
from hybridtls.watch.log import Event
from hybridtls.watch.loop import Watch, WatchSettings
from hybridtls.watch.sinks import Dispatcher, Sink, WebhookSink
from hybridtls.watch.targets import WatchTarget

TLS_NAME = "<I>CN=Contoso Issuing CA<S>CN=mail.contoso.com"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _watch(history: History, events: list[Event], *, targets: list[WatchTarget] | None = None,
           sinks: list[Sink] | None = None, renotify: timedelta | None = None, clock: Clock | None = None,
           probe_options: ProbeOptions | None = None, hooks=()) -> Watch:  # type: ignore[no-untyped-def]
    targets = targets or [WatchTarget(target=parse_target(f"127.0.0.1:{closed_port()}"))]
    settings = WatchSettings(interval=timedelta(minutes=30), once=True, spread=False,
                             probe=probe_options or ProbeOptions(timeout=2, sweep=False, ehlo="t.test"))
    dispatcher = Dispatcher(history, sinks or [], events.append, renotify=renotify)
    return Watch(targets, history, dispatcher, settings, events.append, clock=clock, on_round=hooks)


def test_renotify_reminds_of_a_fault_that_holds_once_per_period(tmp_path: Path) -> None:
    """A refused address, a round every 30 minutes on a fake clock, --renotify 1h: told in round 1, reminded in
    round 3 (61 minutes on) and round 5, never in between; each reminder says "still:" and carries the fix."""
    events: list[Event] = []
    clock = Clock(NOW)
    with Receiver() as receiver, History.open(tmp_path / "w.sqlite") as history:
        watch = _watch(history, events, sinks=[WebhookSink(receiver.url)], renotify=timedelta(hours=1), clock=clock)

        async def rounds() -> None:
            for minutes in (0, 30, 61, 90, 122):
                clock.at = NOW + timedelta(minutes=minutes)
                await watch.round()

        asyncio.run(rounds())
        by_round: dict[int, list[str]] = {}
        for body in receiver.bodies:
            by_round.setdefault(body["round"], []).append(body["summary"])
        assert sorted(by_round) == [1, 3, 5]
        assert not any(s.startswith("still: ") for s in by_round[1])
        assert by_round[3] == ["still: " + s for s in by_round[1]] == by_round[5]
        reminder = next(b for b in receiver.bodies if b["round"] == 3)
        assert reminder["fix"] and reminder["kind"] == receiver.bodies[0]["kind"]
    assert [e.kind for e in events].count("alert_reminder") == 2 * len(by_round[1])


def test_without_renotify_a_fault_that_holds_is_said_once(tmp_path: Path) -> None:
    events: list[Event] = []
    clock = Clock(NOW)
    with History.open(tmp_path / "w.sqlite") as history:
        watch = _watch(history, events, clock=clock)

        async def rounds() -> None:
            for hours in (0, 2, 4):
                clock.at = NOW + timedelta(hours=hours)
                await watch.round()

        asyncio.run(rounds())
    assert {dict(e.fields)["round"] for e in events if e.kind == "alert"} == {"1"}
    assert not [e for e in events if e.kind == "alert_reminder"]


def _label() -> str:
    return observed(probe("10.0.0.1")).observations[0].label


def test_a_timeout_between_two_rounds_of_the_same_certificate_is_no_change(tmp_path: Path) -> None:
    events: list[Event] = []
    t1, t2, t3 = NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=10)
    with History.open(tmp_path / "w.sqlite") as history:
        watch = _watch(history, events)
        watch._note_changes(observed(probe("10.0.0.1"), number=1, at=t1), t1)
        watch._note_changes(observed(probe("10.0.0.1", outcome=ProbeOutcome.TIMEOUT), number=2, at=t2), t2)
        assert watch.last_changed == {_label(): t1}
        watch._note_changes(observed(probe("10.0.0.1"), number=3, at=t3), t3)
        assert watch.last_changed == {_label(): t1}
        watch._note_changes(observed(probe("10.0.0.1", renewed(), renewed()), number=4, at=t3), t3)
        assert watch.last_changed == {_label(): t3}


def test_a_restart_keeps_when_each_certificate_last_changed_and_serves_the_last_round(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    times = [NOW + timedelta(minutes=5 * n) for n in range(5)]
    served = [probe("10.0.0.1"), probe("10.0.0.1", renewed(), renewed()),
              probe("10.0.0.1", outcome=ProbeOutcome.TIMEOUT), probe("10.0.0.1", renewed(), renewed())]
    with History.open(db) as history:
        for number, (result, at) in enumerate(zip(served, times, strict=False), start=1):
            history.record(observed(result, number=number, at=at))
    handed: list[tuple[int, dict[str, datetime]]] = []
    events: list[Event] = []
    with History.open(db) as history:
        watch = _watch(history, events, hooks=(lambda r, changed: handed.append((r.number, dict(changed))),))
        renewed_since = times[1] + timedelta(seconds=30)  # round 2 finished: the renewed leaf first seen then
        assert watch.last_changed == {_label(): renewed_since}
        leaf = observed(served[1]).observations[0].leaf
        assert leaf is not None and watch.leaves[_label()] == (leaf.sha256, renewed_since)

        async def start() -> None:
            watch._stopping.set()  # run() hands on the recorded round first, then stops before a new one
            await watch.run()

        asyncio.run(start())
    assert handed == [(4, {_label(): renewed_since})]


def test_concurrency_holds_for_the_whole_round_across_expected_name_groups(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Four addresses in two groups (each its TlsCertificateName), --concurrency 1: one connection at a time."""
    held = count_connections(monkeypatch)
    targets = [WatchTarget(target=parse_target(f"127.0.0.{n}:25"), expect_cert=(TLS_NAME,) if n % 2 else ())
               for n in range(2, 6)]
    events: list[Event] = []
    with History.open(tmp_path / "w.sqlite") as history:
        watch = _watch(history, events, targets=targets,
                       probe_options=ProbeOptions(timeout=2, sweep=False, ehlo="t.test", concurrency=1))
        assert len(watch.groups) == 2
        result = asyncio.run(watch.round())
    assert len(result.round.observations) == 4 and held["most"] == 1


def test_a_round_that_did_not_probe_every_address_is_incomplete(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def probe_address(host, address, port, expected, settings):  # type: ignore[no-untyped-def]
        await asyncio.sleep(3600)

    monkeypatch.setattr("hybridtls.smtp.runner.probe_address", probe_address)
    events: list[Event] = []
    with History.open(tmp_path / "w.sqlite") as history:
        watch = _watch(history, events, targets=[WatchTarget(target=parse_target("127.0.0.2:25"))],
                       probe_options=ProbeOptions(timeout=2, sweep=False, ehlo="t.test", deadline=0.2))
        result = asyncio.run(watch.round())
        [seen] = result.round.observations
        assert seen.outcome == "deadline" and result.round.complete is False
        assert history.last_round().complete is False  # type: ignore[union-attr]
