"""Probe many addresses politely: a global concurrency bound, one connection at a time per address, a deadline.

Each address is reported to the ``progress`` callback as it starts and finishes. A run cancelled from outside
(Ctrl-C under ``asyncio.run``) raises ``ProbesInterrupted``, a ``CancelledError`` that carries what was finished
and names every other address as not probed.
"""

from __future__ import annotations

import asyncio
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


async def run_probes(targets: Sequence[Target], settings: ProbeSettings, resolution: Resolution, *,
                     expect_name: str | None, concurrency: int, per_address: int, deadline: float,
                     progress: Progress | None = None) -> list[ProbeResult]:
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

    everyone = asyncio.Semaphore(max(1, concurrency))
    per: dict[str, asyncio.Semaphore] = {}

    async def one(target: Target, address: str, expected: str) -> ProbeResult:
        slot = per.setdefault(address, asyncio.Semaphore(max(1, per_address)))
        async with slot, everyone:
            label = address_label(target.host, address, target.port)
            report_item(progress, ProgressKind.STARTED, UNIT, label)
            try:
                return await probe_address(target.host, address, target.port, expected, settings)
            finally:
                report_item(progress, ProgressKind.FINISHED, UNIT, label)

    report_total(progress, UNIT, len(jobs))
    tasks = [asyncio.ensure_future(one(*job)) for job in jobs]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=deadline)
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
