"""What progress costs `check`: the same folder judged with no progress callback (the floor), with a callback
that only counts, and with the rich bar drawing onto a pseudo-terminal (what a user on a terminal sees).

The folder: N server folders, each with one Get-ExchangeCertificate | Format-List file (default 2,000 files).
Each figure is the best of three runs, the three variants taken in turn.

Figures (2026-11-30, 2,000 files, a shared 2-CPU machine; three runs): floor 2.53 to 3.12 s; a callback that
does nothing -7.0% to +17.8% of it (noise: 6,000 calls cost nothing measurable); the rich bar +3.9% to +29.6%
(its refresh thread draws four times a second beside the reading).

Usage: python bench/bench_progress.py [--files N]
"""

from __future__ import annotations

import argparse
import os
import pty
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from conftest import certificate, format_list  # noqa: E402

from hybridtls.cli.progress import progress_bar  # noqa: E402
from hybridtls.model import ProgressEvent  # noqa: E402
from hybridtls.pipeline import judge_evidence  # noqa: E402


def _folder(root: Path, files: int) -> Path:
    text = format_list(certificate())
    for index in range(files):
        (root / f"ex{index:05}").mkdir(parents=True)
        (root / f"ex{index:05}" / "Get-ExchangeCertificate.txt").write_text(text)
    return root


def _best(runs: dict[str, Callable[[], object]], rounds: int = 3) -> dict[str, float]:
    """The best time of each run, the runs taken in turn (a busy machine slows them all alike)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: min(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = str(_folder(Path(temporary) / "evidence", args.files))
        now = judge_evidence([folder]).now

        def count(event: ProgressEvent) -> None:
            pass

        master, slave = pty.openpty()
        threading.Thread(target=lambda: _drain(master), daemon=True).start()
        with os.fdopen(slave, "w", encoding="utf-8") as terminal:
            def drawn() -> None:
                with progress_bar(terminal, "files read", "reading") as progress:
                    judge_evidence([folder], now=now, progress=progress)

            best = _best({"floor": lambda: judge_evidence([folder], now=now),
                          "callback": lambda: judge_evidence([folder], now=now, progress=count), "bar": drawn})
    floor = best["floor"]
    print(f"check over {args.files:,} files (best of 3, taken in turn)")
    print(f"  no progress (floor)         {floor:7.2f} s")
    for name, label in (("callback", "a callback that does nothing"), ("bar", "rich bar on a terminal")):
        print(f"  {label:<28}{best[name]:7.2f} s  ({(best[name] / floor - 1) * 100:+.1f}%)")


def _drain(master: int) -> None:
    try:
        while os.read(master, 65536):
            pass
    except OSError:
        return


if __name__ == "__main__":
    main()
