"""The watch loop: politeness across rounds, stopping mid-round, restart numbering, and what it logs and hands on.

The real-server end-to-end run is in test_watch_postfix.py; these use small loopback servers and closed ports.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from watch_factory import count_connections

from hybridtls.pipeline import ProbeOptions
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.runner import Schedule, run_probes
from hybridtls.smtp.session import ProbeSettings
from hybridtls.smtp.targets import Target, parse_target
from hybridtls.watch.history import History
from hybridtls.watch.log import Event
from hybridtls.watch.loop import Watch, WatchSettings, install_signal_handlers
from hybridtls.watch.sinks import Dispatcher
from hybridtls.watch.targets import WatchTarget


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@given(st.integers(min_value=0, max_value=200), st.floats(min_value=0.0, max_value=600.0), st.integers())
def test_starts_are_spread_in_order_across_the_window(count: int, spread: float, seed: int) -> None:
    offsets = Schedule(spread, random.Random(seed)).offsets(count)
    assert len(offsets) == count
    assert all(0.0 <= o < spread or o == spread == 0.0 for o in offsets)
    assert offsets == sorted(offsets)
    if count > 1 and spread > 1:
        assert offsets[-1] >= spread * (count - 1) / count, "the last start is in the last slot, not bunched"


def _overlapping_rounds(monkeypatch, shared: bool) -> int:  # type: ignore[no-untyped-def]
    """Two rounds at once over three names on one address: the most connections that address saw at once."""
    held = count_connections(monkeypatch)

    async def main() -> None:
        targets = [Target(host=f"n{i}.test", port=25, addresses=("127.0.0.1",)) for i in range(3)]
        schedule = Schedule()

        async def one_round() -> None:
            await run_probes(targets, ProbeSettings(sweep=False, ehlo_name="t.test"), Resolution(), expect_name=None,
                             concurrency=10, per_address=1, deadline=30, schedule=schedule if shared else Schedule())

        await asyncio.gather(one_round(), one_round())

    asyncio.run(main())
    return held["most"]


def test_the_per_address_limit_holds_across_rounds(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert _overlapping_rounds(monkeypatch, shared=True) == 1
    assert _overlapping_rounds(monkeypatch, shared=False) == 2  # the test can tell: unshared, rounds overlap


def test_hurry_starts_every_waiting_job_at_once() -> None:
    async def main() -> list[str]:
        schedule = Schedule(spread=10_000)
        started: list[str] = []

        async def job(name: str, offset: float) -> None:
            await schedule.wait(offset)
            started.append(name)

        tasks = [asyncio.ensure_future(job(n, o)) for n, o in (("a", 0), ("b", 5_000), ("c", 9_000))]
        await asyncio.sleep(0.05)
        assert started == ["a"]
        schedule.hurry()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        await schedule.wait(9_000)  # once hurried, nothing waits
        return started

    assert sorted(asyncio.run(main())) == ["a", "b", "c"]


def _watch(db: Path, events: list[Event], *, once: bool = False, interval: timedelta = timedelta(seconds=1),
           hooks=(), port: int | None = None) -> tuple[Watch, History]:  # type: ignore[no-untyped-def]
    history = History.open(db)
    target = WatchTarget(target=parse_target(f"127.0.0.1:{port or closed_port()}"))
    settings = WatchSettings(interval=interval, once=once, probe=ProbeOptions(timeout=2, sweep=False, ehlo="t.test"))
    watch = Watch([target], history, Dispatcher(history, [], events.append), settings, events.append,
                  on_round=hooks)
    return watch, history


def test_once_runs_one_round_records_it_and_says_nothing_answered(tmp_path: Path) -> None:
    events: list[Event] = []
    watch, history = _watch(tmp_path / "w.sqlite", events, once=True)
    result = asyncio.run(watch.run())
    assert result is not None and result.round.number == 1 and not result.connected
    [seen] = result.round.observations
    assert seen.outcome == "refused" and seen.address == "127.0.0.1"
    assert [r.number for r in history.rounds()] == [1]
    [logged] = [e for e in events if e.kind == "round"]
    assert dict(logged.fields)["round"] == "1" and "0 of 1 addresses answered" in logged.message
    history.close()


def test_a_restarted_watch_numbers_on_and_sends_nothing_twice(tmp_path: Path) -> None:
    port = closed_port()
    db = tmp_path / "w.sqlite"
    first: list[Event] = []
    watch, history = _watch(db, first, once=True, port=port)
    asyncio.run(watch.run())
    history.close()
    again: list[Event] = []
    watch, history = _watch(db, again, once=True, port=port)
    assert watch.previous is not None and watch.previous.number == 1
    result = asyncio.run(watch.run())
    assert result is not None and result.round.number == 2
    assert [r.number for r in history.rounds()] == [1, 2]
    sent_first = [e.message for e in first if e.kind == "alert"]
    assert not [e for e in again if e.kind == "alert" and e.message in sent_first]
    history.close()


def test_stop_finishes_the_round_in_progress_and_records_it(tmp_path: Path) -> None:
    """With an hour's interval the round's one connection is scheduled up to 48 minutes away: stop() starts it
    now, the round is recorded whole, and run() returns (the wait_for only guards against a hang)."""
    events: list[Event] = []
    watch, history = _watch(tmp_path / "w.sqlite", events, interval=timedelta(hours=1))
    watch.schedule.rng.seed(1)  # an offset well inside the window

    async def main() -> None:
        running = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.2)
        assert not running.done()
        watch.stop()
        await asyncio.wait_for(running, 120)

    asyncio.run(main())
    [recorded] = list(history.rounds())
    assert recorded.complete and len(recorded.observations) == 1
    assert [e.kind for e in events if e.kind in ("stopping", "round")] == ["stopping", "round"]
    history.close()


def test_sigterm_stops_the_watch_cleanly(tmp_path: Path) -> None:
    events: list[Event] = []
    watch, history = _watch(tmp_path / "w.sqlite", events, interval=timedelta(hours=1))

    async def main() -> None:
        install_signal_handlers(watch)
        running = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 120)

    asyncio.run(main())
    assert watch.stopping and len(list(history.rounds())) == 1
    history.close()


def test_a_second_signal_interrupts_at_once(tmp_path: Path) -> None:
    events: list[Event] = []
    watch, history = _watch(tmp_path / "w.sqlite", events, interval=timedelta(hours=1))
    watch.schedule.hurry = lambda: None  # type: ignore[method-assign] # the round would otherwise end by itself
    watch.schedule.rng.seed(1)  # its one connection minutes away

    async def main() -> None:
        install_signal_handlers(watch)
        running = asyncio.ensure_future(watch.run())
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.2)
        assert watch.stopping and not running.done()
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(running, 120)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    assert list(history.rounds()) == []
    history.close()


def test_each_round_reaches_the_hooks_and_a_failing_hook_is_logged(tmp_path: Path) -> None:
    events: list[Event] = []
    seen: list[int] = []

    def good(round_, last_changed) -> None:  # type: ignore[no-untyped-def]
        seen.append(round_.number)

    def bad(round_, last_changed) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("metrics broke")

    watch, history = _watch(tmp_path / "w.sqlite", events, once=True, hooks=(bad, good))
    asyncio.run(watch.run())
    assert seen == [1]
    [failed] = [e for e in events if e.kind == "hook_failed"]
    assert "metrics broke" in failed.message
    history.close()


def test_old_rounds_are_pruned_each_round(tmp_path: Path) -> None:
    events: list[Event] = []
    db = tmp_path / "w.sqlite"
    watch, history = _watch(db, events, once=True)
    asyncio.run(watch.run())
    history.close()
    history = History.open(db)
    settings = WatchSettings(interval=timedelta(seconds=1), once=True, keep=timedelta(seconds=0.000001),
                             probe=ProbeOptions(timeout=2, sweep=False, ehlo="t.test"))
    target = WatchTarget(target=parse_target(f"127.0.0.1:{closed_port()}"))
    watch = Watch([target], history, Dispatcher(history, [], events.append), settings, events.append)
    asyncio.run(watch.run())
    assert [r.number for r in history.rounds()] == [2]
    assert "1 old round pruned" in [e for e in events if e.kind == "round"][-1].message
    history.close()


def test_a_round_lost_after_its_alerts_were_sent_does_not_send_them_again(tmp_path: Path) -> None:
    """Killed between sending a round's alerts and recording the round: on restart the round is probed again and
    raises the same alerts, which the history remembers as sent."""
    db = tmp_path / "w.sqlite"
    port = closed_port()
    first: list[Event] = []
    watch, history = _watch(db, first, once=True, port=port)

    def killed(round_) -> None:  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("killed before the round was recorded")

    history.record = killed  # type: ignore[method-assign]
    try:
        asyncio.run(watch.run())
    except KeyboardInterrupt:
        pass
    sent = [e.message for e in first if e.kind == "alert"]
    assert sent, "a refused address raises an alert on the first round"
    history.close()

    again: list[Event] = []
    watch, history = _watch(db, again, once=True, port=port)
    assert watch.previous is None
    asyncio.run(watch.run())
    assert [e for e in again if e.kind == "alert"] == []
    assert sorted(e.message.removesuffix(" (already sent)") for e in again if e.kind == "alert_repeat") == sorted(sent)
    assert [r.number for r in history.rounds()] == [1]  # the lost round, probed again under its number
    history.close()
