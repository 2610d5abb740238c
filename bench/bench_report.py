"""Time the HTML, Markdown, JSON and terminal reports for 10,000 message-trace rows and 500 findings.

Prints figures; asserts nothing. Target: each report written in under a second.
Usage: python bench/bench_report.py [--rows 10000] [--findings 500]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from hybridtls.checks import CHECKS  # noqa: E402
from hybridtls.model import (  # noqa: E402
    CheckOutcome,
    CheckStatus,
    Citation,
    EvidenceSet,
    ExchangeCertificate,
    Finding,
    RootCAType,
    ServerBasis,
    ServerRef,
    Severity,
    Source,
    TraceEntry,
    TraceStatus,
)
from hybridtls.report import Report  # noqa: E402


def build(rows: int, findings: int) -> Report:
    start = datetime(2026, 3, 1)
    statuses = [TraceStatus.DELIVERED] * 7 + [TraceStatus.PENDING, TraceStatus.PENDING, TraceStatus.FAILED]
    traces = tuple(TraceEntry(source=Source(path="trace.txt", line=3 + 12 * i), received=start + timedelta(minutes=7 * i),
                              sender_address=f"user{i % 50}@contoso.com", recipient_address=f"person{i % 900}@contoso.com",
                              status=statuses[i % len(statuses)]) for i in range(rows))
    certs = tuple(ExchangeCertificate(source=Source(path=f"ex{n}/certs.txt", line=3),
                                      server=ServerRef(name=f"EX{n:02d}", basis=ServerBasis.FOLDER),
                                      thumbprint="A" * 40, issuer="CN=Issuing CA, O=Vendor", subject="CN=mail.contoso.com",
                                      serial_number="0A", is_self_signed=False, services=frozenset({"SMTP", "IIS"}),
                                      root_ca_type=RootCAType.REGISTRY if n % 7 == 0 else RootCAType.THIRD_PARTY,
                                      not_before=start - timedelta(days=3), not_after=start + timedelta(days=300))
                  for n in range(50))
    evidence = EvidenceSet(files=("trace.txt",), certificates=certs, trace_entries=traces)
    ids = [c.id for c in CHECKS]
    made = tuple(Finding(check_id=ids[i % len(ids)], severity=(Severity.ERROR, Severity.WARNING, Severity.INFO)[i % 3],
                         subject=f"subject {i} <b>", message=f"finding {i}: " + "details " * 30,
                         evidence=tuple(Citation(source=Source(path="f.txt", line=j), text=f"line {j}") for j in range(4)),
                         remediation="Get-ExchangeCertificate | Format-List\n" * 4) for i in range(findings))
    outcomes = (CheckOutcome(check_id=ids[0], status=CheckStatus.FIRED, findings=made),)
    return Report(command="check", evidence=evidence, checks=CHECKS, outcomes=outcomes, now=start,
                  fail_on=Severity.WARNING)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--findings", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report = build(args.rows, args.findings)
    from hybridtls.report.html import render_html
    from hybridtls.report.json import render_json
    from hybridtls.report.markdown import render_markdown
    from hybridtls.report.terminal import make_console, render_terminal

    def terminal() -> str:
        stream = io.StringIO()
        render_terminal(report, make_console(stream, width=120, color=False))
        return stream.getvalue()

    print(f"{args.rows} trace rows, {args.findings} findings, 50 servers; best and median of {args.runs} runs")
    for name, render in (("html", lambda: render_html(report)), ("markdown", lambda: render_markdown(report)),
                         ("json", lambda: render_json(report)), ("terminal", terminal)):
        samples, size = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            size = len(render())
            samples.append(time.perf_counter() - started)
        samples.sort()
        print(f"{name:9} best {samples[0] * 1000:7.0f} ms  median {samples[len(samples) // 2] * 1000:7.0f} ms  "
              f"{size / 1e6:5.2f} MB")


if __name__ == "__main__":
    main()
