"""Probe many addresses politely: a global concurrency bound, one connection at a time per address, a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timezone

from hybridtls.model import ProbeOutcome, ProbeResult, ProbeStep
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.session import ProbeSettings, probe_address
from hybridtls.smtp.targets import Target


def _ended(target: Target, address: str, expected: str, outcome: ProbeOutcome, stage: ProbeStep, detail: str) -> ProbeResult:
    return ProbeResult(host=target.host, address=address, port=target.port, expected_name=expected,
                       outcome=outcome, stage=stage, detail=detail,
                       observed_at=datetime.now(timezone.utc).replace(microsecond=0))


async def run_probes(targets: Sequence[Target], settings: ProbeSettings, resolution: Resolution, *,
                     expect_name: str | None, concurrency: int, per_address: int, deadline: float) -> list[ProbeResult]:
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
            return await probe_address(target.host, address, target.port, expected, settings)

    tasks = [asyncio.ensure_future(one(*job)) for job in jobs]
    if tasks:
        await asyncio.wait(tasks, timeout=deadline)
    for task, (target, address, expected) in zip(tasks, jobs, strict=True):
        if task.done() and not task.cancelled() and task.exception() is None:
            results.append(task.result())
        elif task.done() and not task.cancelled():
            results.append(_ended(target, address, expected, ProbeOutcome.PROTOCOL_ERROR, ProbeStep.PROBE,
                                  f"the probe failed: {type(task.exception()).__name__}: {task.exception()}"))
        else:
            task.cancel()
            results.append(_ended(target, address, expected, ProbeOutcome.DEADLINE, ProbeStep.PROBE,
                                  f"the run's deadline of {deadline:g} s passed first"))
    await asyncio.gather(*tasks, return_exceptions=True)
    return results
