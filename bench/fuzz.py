"""Mutation fuzzing, the long run: every reader fed damaged real-shaped evidence (tests/mutate.py), each file in
its own forked process so that a hang, a crash or a memory blow-up is seen and measured per file.

Prints runs, failures (anything but a report or our one-line errors; an input file changed; a hang past
--timeout), the worst peak memory against the input size and the worst time. Failing inputs are kept in
--keep (default: a temporary folder) to reproduce with `hybridtls check FILE --debug`. Not part of CI.

Usage: python3 bench/fuzz.py [--runs 10000] [--seed 1] [--timeout 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import resource
import signal
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from mutate import mutated, seeds  # noqa: E402

from hybridtls.errors import HybridTlsError  # noqa: E402
from hybridtls.pipeline import judge_evidence  # noqa: E402

OK, ONE_LINE, CRASH, CHANGED = 0, 10, 20, 30


def _child(path: Path, timeout: int) -> None:
    signal.alarm(timeout)
    before = hashlib.sha256(path.read_bytes()).digest()
    code = OK
    try:
        report = judge_evidence([str(path)], now=datetime(2026, 11, 30))
        for fmt in ("terminal", "json", "markdown", "html"):
            report.write(fmt, io.StringIO(), width=100, color=False)
    except HybridTlsError as exc:
        code = ONE_LINE if "\n" not in str(exc) else CRASH
    except BaseException as exc:  # noqa: BLE001 - what the run is looking for
        sys.stderr.write(f"{type(exc).__name__}: {str(exc)[:200]}\n")
        code = CRASH
    if hashlib.sha256(path.read_bytes()).digest() != before:
        code = CHANGED
    os._exit(code)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=20, help="seconds a file may take before it counts as a hang")
    parser.add_argument("--keep", type=Path, help="where failing inputs are kept")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = seeds()
    keep = args.keep or Path(tempfile.mkdtemp(prefix="hybridtls-fuzz-"))
    keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hybridtls-fuzz-run-"))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB: what the parent (and so a fork) starts with
    outcomes = {OK: 0, ONE_LINE: 0}
    failures: list[str] = []
    worst_memory = (0.0, "", 0)
    worst_time = (0.0, "")
    started = time.monotonic()
    for run in range(args.runs):
        name, data = rng.choice(pool)
        damaged = mutated(data, rng)
        path = work / f"{run:05d}-{name}"
        path.write_bytes(damaged)
        begin = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(path, args.timeout)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.monotonic() - begin
        code = os.waitstatus_to_exitcode(status)
        grown = max(0, usage.ru_maxrss - baseline) / 1024  # MiB above what the fork began with
        if code in outcomes:
            outcomes[code] += 1
        else:
            why = {CRASH: "exception", CHANGED: "input changed", -signal.SIGALRM: f"hang (> {args.timeout} s)"}.get(
                code, f"exit {code}")
            failures.append(f"{path.name}: {why}")
            (keep / path.name).write_bytes(damaged)
        if grown > worst_memory[0]:
            worst_memory = (grown, path.name, len(damaged))
            (keep / "worst-memory").write_bytes(damaged)
        if elapsed > worst_time[0]:
            worst_time = (elapsed, path.name)
            (keep / "worst-time").write_bytes(damaged)
        path.unlink()
        if (run + 1) % 1000 == 0:
            print(f"  {run + 1} runs, {len(failures)} failures, {time.monotonic() - started:.0f} s", flush=True)
    print(f"runs                 {args.runs} (seed {args.seed}, {len(pool)} seed files)")
    print(f"reports              {outcomes[OK]}")
    print(f"one-line errors      {outcomes[ONE_LINE]}")
    print(f"failures             {len(failures)}" + (f" (kept in {keep})" if failures else ""))
    for line in failures[:20]:
        print(f"  {line}")
    memory, name, size = worst_memory
    print(f"worst peak memory    {memory:.1f} MiB above start, on {name} ({size / 1048576:.2f} MiB input, "
          f"{memory * 1048576 / max(size, 1):.1f}x)")
    print(f"worst time           {worst_time[0]:.2f} s on {worst_time[1]}")
    print(f"total                {time.monotonic() - started:.0f} s; the worst inputs are kept in {keep}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
