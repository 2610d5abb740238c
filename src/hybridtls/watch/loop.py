"""The watch: one asyncio loop of rounds. Each round probes every address behind every name (spread across the
interval, with jitter, the per-address limit held across rounds), observes, alerts on what changed, then records
the round in the history and prunes it. No argparse and no printing: events go to a logger callback.

Restart-safe: a round's number is taken only when the round is recorded (``History.record``, whole or not at
all), and its alerts are delivered (each delivery marked in the history) before that. A watch killed between the
two probes that round again under the same number on restart: its alerts are the same events, not delivered twice.
What a sink did not take waits in the history's outbox and is tried again at the start of each following round.
SIGTERM and SIGINT (``stop()``) start the round's remaining connections at once, finish and record the round, and
end the run.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from hybridtls.model import Severity
from hybridtls.model.probe import address_label
from hybridtls.pipeline import ProbeOptions, TrustOptions, probe_and_judge_async
from hybridtls.smtp.runner import Schedule
from hybridtls.watch.log import Event, Logger
from hybridtls.watch.model import AlertKind, Round

if TYPE_CHECKING:
    from hybridtls.report import Report
    from hybridtls.watch.history import History
    from hybridtls.watch.model import Alert
    from hybridtls.watch.sinks import Dispatcher
    from hybridtls.watch.targets import WatchTarget

RoundHook = Callable[[Round, Mapping[str, datetime]], None]  # the round, and when each address's leaf last changed
SPREAD = 0.8  # the share of the interval a round's connections start in; the rest lets the last ones finish
NOT_PROBED = ("deadline", "interrupted")  # outcomes of an address the round did not get to
NOT_FAULTS = frozenset({AlertKind.RECOVERED, AlertKind.FINDING_CLEARED, AlertKind.CERTIFICATE_CHANGED,
                        AlertKind.TLS_VERSIONS_CHANGED})  # changes, not faults: never reminded of


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchSettings:
    interval: timedelta = timedelta(minutes=5)
    keep: timedelta | None = timedelta(days=90)  # rounds older than this are pruned each round; None: kept
    once: bool = False  # one round, then return
    probe: ProbeOptions = field(default_factory=ProbeOptions)
    trust: TrustOptions = field(default_factory=TrustOptions)
    fail_on: Severity | None = Severity.WARNING
    spread: bool = True  # spread connections across the interval (off for --once: it starts them all at once)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    round: Round
    alerts: tuple[Alert, ...]
    failed: bool  # a finding at or above --fail-on
    connected: bool  # at least one address answered (or there were no probes)


class Watch:
    """Rounds until stopped. ``on_round`` callbacks (the /metrics server) receive each recorded round."""

    def __init__(self, targets: Sequence[WatchTarget], history: History, dispatcher: Dispatcher,
                 settings: WatchSettings, log: Logger, *, on_round: Sequence[RoundHook] = (),
                 clock: Callable[[], datetime] | None = None, schedule: Schedule | None = None) -> None:
        self.groups = _groups(targets)
        self.history = history
        self.dispatcher = dispatcher
        self.settings = settings
        self.log = log
        self.on_round = list(on_round)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        seconds = settings.interval.total_seconds() * SPREAD if settings.spread and not settings.once else 0.0
        self.schedule = schedule or Schedule(spread=seconds)
        self.previous: Round | None = history.last_round()
        self.leaves: dict[str, tuple[str, datetime]] = {  # per address: the last leaf seen, and since when
            address_label(*where): seen for where, seen in history.last_leaves().items()}
        self.last_changed: dict[str, datetime] = self._since(self.previous) if self.previous else {}
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the round in progress (its remaining connections start now), record it, and return."""
        if not self._stopping.is_set():
            self.log(Event(kind="stopping", message="finishing the round in progress, then stopping",
                           at=self.clock()))
        self._stopping.set()
        self.schedule.hurry()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> RoundResult | None:
        """Rounds every interval until ``stop()`` (or one, with ``once``); the last round's result."""
        result = None
        if self.previous is not None:  # /metrics serves the last round recorded until this one ends
            self._hand_on(self.previous)
        while not self._stopping.is_set():
            began = asyncio.get_running_loop().time()
            result = await self.round()
            if self.settings.once:
                break
            pause = self.settings.interval.total_seconds() - (asyncio.get_running_loop().time() - began)
            try:
                await asyncio.wait_for(self._stopping.wait(), max(0.0, pause))
            except asyncio.TimeoutError:
                pass
        return result

    async def round(self) -> RoundResult:
        """One round: probe, observe, alert, record, prune, then the ``on_round`` callbacks."""
        from hybridtls.watch.changes import changes
        from hybridtls.watch.observe import observe_round

        number = self.history.next_round_number()
        started = self.clock()
        self.dispatcher.start_round()
        await self.dispatcher.retry(started)
        reports = await asyncio.gather(*(self._probe(targets, expect, first=index == 0)
                                         for index, (expect, targets) in enumerate(self.groups.items())))
        finished = self.clock()
        parts = [observe_round(report, number=number, started_at=started, finished_at=finished) for report in reports]
        observations = tuple(o for p in parts for o in p.observations)
        current = replace(parts[0], observations=observations, findings=tuple(f for p in parts for f in p.findings),
                          complete=not any(o.outcome in NOT_PROBED for o in observations))
        alerts = tuple(changes(self.previous, current, now=finished))
        await self.dispatcher.dispatch(alerts, finished)
        if self.dispatcher.renotify is not None:
            still = [a for a in changes(None, current, now=finished) if a.kind not in NOT_FAULTS]
            await self.dispatcher.remind(still, alerts, finished)
        self.history.record(current)
        self._note_changes(current, finished)
        self.previous = current
        pruned = self.history.prune(finished - self.settings.keep) if self.settings.keep else 0
        self.log(Event(kind="round", message=_summary(current, alerts, pruned), at=finished,
                       fields=(("round", str(number)), ("addresses", str(len(current.observations))),
                               ("alerts", str(len(alerts))), ("seconds", f"{current.duration_seconds:.1f}"))))
        self._hand_on(current)
        return RoundResult(round=current, alerts=alerts, failed=any(r.failed for r in reports),
                           connected=_connected(reports))

    def _hand_on(self, current: Round) -> None:
        """The ``on_round`` callbacks (the /metrics server): one that fails is logged, the watch goes on."""
        for hook in self.on_round:
            try:
                hook(current, dict(self.last_changed))
            except Exception as exc:  # noqa: BLE001 - a failing consumer (the metrics) is said, the watch goes on
                self.log(Event(kind="hook_failed", message=f"{type(exc).__name__}: {exc}", at=self.clock(),
                               fields=(("round", str(current.number)),)))

    async def _probe(self, targets: Sequence[WatchTarget], expect: tuple[str, ...], *, first: bool) -> Report:
        options = replace(self.settings.probe, expect_cert=expect, mx=self.settings.probe.mx if first else ())
        return await probe_and_judge_async([t.target for t in targets], options=options, trust=self.settings.trust,
                                           fail_on=self.settings.fail_on, schedule=self.schedule)

    def _note_changes(self, current: Round, now: datetime) -> None:
        """Each address's last leaf and since when it is served (first seen counts as a change). A round that did
        not see a leaf (a timeout) changes nothing; only this round's addresses are kept, so the maps never
        outgrow the watch."""
        kept: dict[str, tuple[str, datetime]] = {}
        for observation in current.observations:
            known = self.leaves.get(observation.label)
            if observation.leaf is None:
                if known is not None:
                    kept[observation.label] = known
            elif known is not None and known[0] == observation.leaf.sha256:
                kept[observation.label] = known
            else:
                kept[observation.label] = (observation.leaf.sha256, now)
        self.leaves = kept
        self.last_changed = self._since(current)

    def _since(self, current: Round) -> dict[str, datetime]:
        return {o.label: self.leaves[o.label][1] for o in current.observations if o.label in self.leaves}


def install_signal_handlers(watch: Watch) -> None:
    """SIGTERM and SIGINT stop the watch after the round in progress (systemd's stop, Ctrl-C); a second one
    interrupts at once (KeyboardInterrupt: the command line exits 130, the round in progress is not recorded)."""
    loop = asyncio.get_running_loop()

    def asked() -> None:
        if watch.stopping:
            raise KeyboardInterrupt
        watch.stop()

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, asked)


def _groups(targets: Sequence[WatchTarget]) -> dict[tuple[str, ...], list[WatchTarget]]:
    """Targets by the TlsCertificateName their certificate must match: each group is judged with its own, so an
    Exchange Online host is never held to the on-premises certificate's name. Hand-given targets come first."""
    groups: dict[tuple[str, ...], list[WatchTarget]] = {}
    for target in targets:
        groups.setdefault(target.expect_cert, []).append(target)
    return groups or {(): []}


def _connected(reports: Sequence[Report]) -> bool:
    probes = [p for report in reports for p in report.evidence.probes]
    return not probes or any(p.outcome.connected for p in probes)


def _summary(current: Round, alerts: Sequence[Alert], pruned: int) -> str:
    answered = sum(1 for o in current.observations if o.connected)
    text = f"round {current.number}: {answered} of {len(current.observations)} addresses answered, " \
           f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    return text + (f", {pruned} old round{'s' if pruned != 1 else ''} pruned" if pruned else "")
