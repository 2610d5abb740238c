"""Mutation fuzzing of real-shaped evidence for every reader: only our one-line errors escape, no input file
changes, every report format renders. A longer run: ``python3 bench/fuzz.py``."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutate import mutated, seeds

from hybridtls.errors import HybridTlsError
from hybridtls.pipeline import judge_evidence

SEEDS = seeds()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=len(SEEDS) - 1), entropy=st.randoms(use_true_random=False))
def test_mutated_evidence_gives_a_report_or_one_line_errors(tmp_path: Path, seed: int, entropy: random.Random) -> None:
    name, data = SEEDS[seed]
    path = tmp_path / f"fuzz-{seed}-{name}"
    path.write_bytes(mutated(data, entropy))
    before = hashlib.sha256(path.read_bytes()).digest()
    try:
        report = judge_evidence([str(path)], now=datetime(2026, 11, 30))
    except HybridTlsError as exc:
        assert "\n" not in str(exc)  # one line
        report = None
    assert hashlib.sha256(path.read_bytes()).digest() == before
    if report is not None:
        for problem in report.evidence.problems:
            assert "\n" not in problem.message
        for fmt in ("terminal", "json", "markdown", "html"):
            report.write(fmt, io.StringIO(), width=100, color=False)
