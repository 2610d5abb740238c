"""Probe many addresses politely: a global concurrency bound, one connection at a time per address, a deadline.

A ``Schedule`` carries politeness across runs (a monitor's rounds): its per-address slots persist, so the
per-address limit holds across rounds too, and it spreads the connections' starts across a window, with jitter.

Each address is reported to the ``progress`` callback as it starts and finishes. A run cancelled from outside
(Ctrl-C under ``asyncio.run``) raises ``ProbesInterrupted``, a ``CancelledError`` that carries what was finished
and names every other address as not probed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import datetime, timezone

from hybridtls.model import ProbeOutcome, ProbeResult, ProbeStep, Progress, ProgressKind
from hybridtls.model.probe import address_label
from hybridtls.model.progress import report_item, report_total
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.session import ProbeSettings, probe_address
from hybridtls.smtp.targets import Target

UNIT = "addresses"


class ProbesInterrupted(asyncio.CancelledError):
    """The run was cancelled: ``results`` holds every address, those not finished as INTERRUPTED (never passed)."""

    def __init__(self, results: list[ProbeResult], done: int, total: int) -> None:
        super().__init__("interrupted")
        self.results = results
        self.done = done
        self.total = total


def _ended(target: Target, address: str, expected: str, outcome: ProbeOutcome, stage: ProbeStep, detail: str) -> ProbeResult:
    return ProbeResult(host=target.host, address=address, port=target.port, expected_name=expected,
                       outcome=outcome, stage=stage, detail=detail,
                       observed_at=datetime.now(timezone.utc).replace(microsecond=0))


class Schedule:
    """Politeness that outlives one run: per-address slots kept across runs, and starts spread over ``spread``
    seconds (job i of n starts at i*spread/n plus up to one slot's width of jitter), and one bound on connections
    at once shared by every run given it (a round made of several runs holds --concurrency in all). ``hurry()``
    starts every job still waiting at once (a monitor asked to stop finishes its round without waiting out the
    schedule)."""

    MAX_SLOTS = 65536  # addresses remembered; beyond it the least recently added are forgotten (memory bounded)

    def __init__(self, spread: float = 0.0, rng: random.Random | None = None) -> None:
        self.spread = max(0.0, spread)
        self.rng = rng or random.Random()
        self.slots: dict[str, asyncio.Semaphore] = {}
        self._hurried = False
        self._wakers: set[asyncio.Future[None]] = set()
        self._everyone: tuple[int, asyncio.Semaphore] | None = None

    def limit(self, concurrency: int) -> asyncio.Semaphore:
        """The bound on connections at once shared by every run of this schedule (made again if it changes)."""
        if self._everyone is None or self._everyone[0] != concurrency:
            self._everyone = (concurrency, asyncio.Semaphore(max(1, concurrency)))
        return self._everyone[1]

    def hurry(self) -> None:
        self._hurried = True
        for waker in self._wakers:
            if not waker.done():
                waker.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when hurried."""
        if seconds <= 0 or self._hurried:
            return
        waker = asyncio.get_running_loop().create_future()
        self._wakers.add(waker)
        try:
            await asyncio.wait_for(asyncio.shield(waker), seconds)
        except asyncio.TimeoutError:
            pass
        finally:
            self._wakers.discard(waker)

    def slot(self, address: str, per_address: int) -> asyncio.Semaphore:
        found = self.slots.get(address)
        if found is None:
            while len(self.slots) >= self.MAX_SLOTS:
                del self.slots[next(iter(self.slots))]
            found = self.slots[address] = asyncio.Semaphore(max(1, per_address))
        return found

    def offsets(self, count: int) -> list[float]:
        """When each of ``count`` jobs starts, in seconds from now, each within [0, spread)."""
        if count == 0 or self.spread <= 0:
            return [0.0] * count
        width = self.spread / count
        return [index * width + self.rng.uniform(0.0, width) * 0.999 for index in range(count)]


async def run_probes(targets: Sequence[Target], settings: ProbeSettings, resolution: Resolution, *,
                     expect_name: str | None, concurrency: int, per_address: int, deadline: float,
                     progress: Progress | None = None, schedule: Schedule | None = None) -> list[ProbeResult]:
    """Every address behind every target, once. The deadline counts from the last scheduled start."""
    results: list[ProbeResult] = []
    jobs: list[tuple[Target, str, str]] = []
    for target in targets:
        filled, error = await resolution.fill(target)
        expected = expect_name or target.host
        if not filled.addresses:
            results.append(_ended(target, "", expected, ProbeOutcome.DNS_FAILED, ProbeStep.RESOLVE,
                                  f"{target.host} does not resolve ({error or 'no A or AAAA record'})"))
        seen = set()
        for address in filled.addresses:
            if (address, target.port) not in seen:
                seen.add((address, target.port))
                jobs.append((filled, address, expected))

    schedule = schedule or Schedule()
    everyone = schedule.limit(concurrency)
    offsets = schedule.offsets(len(jobs))

    async def one(target: Target, address: str, expected: str, offset: float) -> ProbeResult:
        await schedule.wait(offset)
        async with schedule.slot(address, per_address), everyone:
            label = address_label(target.host, address, target.port)
            report_item(progress, ProgressKind.STARTED, UNIT, label)
            try:
                return await probe_address(target.host, address, target.port, expected, settings)
            finally:
                report_item(progress, ProgressKind.FINISHED, UNIT, label)

    report_total(progress, UNIT, len(jobs))
    tasks = [asyncio.ensure_future(one(*job, offset)) for job, offset in zip(jobs, offsets, strict=True)]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=deadline + max(offsets, default=0.0))
    except asyncio.CancelledError:
        done = sum(1 for task in tasks if _finished(task))
        results += _collected(tasks, jobs, ProbeOutcome.INTERRUPTED,
                              "not probed: the run was interrupted (Ctrl-C) first")
        await asyncio.gather(*tasks, return_exceptions=True)
        raise ProbesInterrupted(results, done, len(jobs)) from None
    results += _collected(tasks, jobs, ProbeOutcome.DEADLINE, f"the run's deadline of {deadline:g} s passed first")
    await asyncio.gather(*tasks, return_exceptions=True)
    return results


def _finished(task: asyncio.Future[ProbeResult]) -> bool:
    return task.done() and not task.cancelled()


def _collected(tasks: Sequence[asyncio.Future[ProbeResult]], jobs: Sequence[tuple[Target, str, str]],
               unfinished: ProbeOutcome, why: str) -> list[ProbeResult]:
    """Each job's result: its probe's, a failure named, or ``unfinished`` (the task is cancelled)."""
    results: list[ProbeResult] = []
    for task, (target, address, expected) in zip(tasks, jobs, strict=True):
        if task.done() and not task.cancelled() and task.exception() is None:
            results.append(task.result())
        elif task.done() and not task.cancelled():
            results.append(_ended(target, address, expected, ProbeOutcome.PROTOCOL_ERROR, ProbeStep.PROBE,
                                  f"the probe failed: {type(task.exception()).__name__}: {task.exception()}"))
        else:
            task.cancel()
            results.append(_ended(target, address, expected, unfinished, ProbeStep.PROBE, why))
    return results
