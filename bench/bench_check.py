"""Time `hybridtls check` on generated large estates beside a floor, and the start-up.

Estates: N servers x 3 certificates (public hybrid certificate, the server's self-signed one, the Auth certificate)
saved as Windows PowerShell does (UTF-16 LE with BOM, CRLF), and M message-trace rows in Format-List; two servers
carry the founding fault. The floor is a fresh ``python3`` that walks the same folder, decodes each file the same
way and runs one compiled regex per line: what reading the bytes costs before any understanding. Each command runs
in its own process, started by a small launcher process (so that no page of this script's memory is counted in
its peak); its CPU time (user + system) and peak RSS come from ``os.wait4`` (that child's own rusage).
On a shared machine wall time wanders with the neighbours' load; CPU time much less, so ratios are given for both.

Also: ``ConvertTo-Json`` output at 1k/10k/100k objects (time per object should stay flat), ``hybridtls --help`` and
``hybridtls check`` on the founding incident (start-up). Prints figures; asserts nothing.

Usage: python bench/bench_check.py [--runs N] [--large-rows 100000] [--quick]
``--quick`` skips the 100k-row estate and the 100k-object JSON.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
FOUNDING = REPO / "examples" / "founding-incident"
NOW = "2026-04-01"

# Every file under argv[1], in order, decoded as hybridtls decodes it (BOM or UTF-8): the start of every floor.
WALK_AND_DECODE = r"""
import codecs, os, sys
def texts(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            data = open(os.path.join(dirpath, name), "rb").read()
            if data.startswith(codecs.BOM_UTF16_LE):
                text = data[2:].decode("utf-16-le")
            elif data.startswith(codecs.BOM_UTF8):
                text = data[3:].decode("utf-8")
            else:
                text = data.decode("utf-8")
            del data  # the bytes are not held while the text is read
            yield text
"""

# The floor: the same walk and decoding as hybridtls, one compiled regex per line, nothing kept.
FLOOR = WALK_AND_DECODE + r"""
import re
LINE = re.compile(r"^\s*([A-Za-z_][\w .\-/#()]*?)\s*:(?:\s(.*))?$")
matched = 0
for text in texts(sys.argv[1]):
    match = LINE.match
    for line in text.splitlines():
        if match(line):
            matched += 1
print(matched)
"""


# Runs a command from a fresh, small process (a fork of this script would count its pages in the child's peak RSS).
LAUNCH = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, _, usage = os.wait4(child.pid, 0)
child.returncode = 0  # reaped by wait4
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def _fl(records: list[dict[str, str]]) -> str:
    blocks = []
    for record in records:
        width = max(map(len, record))
        blocks.append("\r\n".join(f"{k.ljust(width)} : {v}" for k, v in record.items()))
    return "\r\n\r\n" + "\r\n\r\n\r\n".join(blocks) + "\r\n\r\n"


def _write_utf16(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))


def _certificates(n: int) -> list[dict[str, str]]:
    server = f"EX{n:03d}"
    public_thumb = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
    return [
        {"Identity": f"{server}.contoso.com\\{public_thumb}", "Thumbprint": public_thumb,
         "Subject": "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US",
         "Issuer": "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US",
         "CertificateDomains": "{mail.contoso.com, autodiscover.contoso.com}", "HasPrivateKey": "True",
         "IsSelfSigned": "False", "NotAfter": "3/14/2027 11:59:59 PM", "NotBefore": "3/15/2026 12:00:00 AM",
         "PublicKeySize": "2048", "RootCAType": "Registry" if n in (7, 31) else "ThirdParty",
         "SerialNumber": "0A1B2C3D4E5F60718293A4B5C6D7E8F9", "Services": "IMAP, POP, IIS, SMTP", "Status": "Valid"},
        {"Identity": f"{server}.contoso.com\\{n:040X}", "Thumbprint": f"{n:040X}", "Subject": f"CN={server}",
         "Issuer": f"CN={server}", "CertificateDomains": f"{{{server}, {server}.contoso.com}}",
         "HasPrivateKey": "True", "IsSelfSigned": "True", "NotAfter": "1/1/2031 10:00:00 AM",
         "NotBefore": "1/1/2026 10:00:00 AM", "PublicKeySize": "2048", "RootCAType": "Registry",
         "SerialNumber": f"{n + 4096:X}", "Services": "IMAP, POP, IIS, SMTP", "Status": "Valid"},
        {"Identity": f"{server}.contoso.com\\4CE834243B37D27F29379287D3DED6294935EB2D",
         "Thumbprint": "4CE834243B37D27F29379287D3DED6294935EB2D",
         "Subject": "CN=Microsoft Exchange Server Auth Certificate",
         "Issuer": "CN=Microsoft Exchange Server Auth Certificate", "CertificateDomains": "{}",
         "HasPrivateKey": "True", "IsSelfSigned": "True", "NotAfter": "5/1/2030 2:00:00 PM",
         "NotBefore": "5/1/2025 2:00:00 PM", "PublicKeySize": "2048", "RootCAType": "None",
         "SerialNumber": "6E5D4C3B2A1908F7", "Services": "SMTP", "Status": "Valid"},
    ]


def _trace_rows(first: int, stop: int) -> list[dict[str, str]]:
    start = datetime(2026, 3, 20, 8, 0)
    rows = []
    for i in range(first, stop):
        received = start + timedelta(seconds=37 * i)
        rows.append({
            "Received": f"{received.month}/{received.day}/{received.year} {received.hour % 12 or 12}:"
                        f"{received:%M:%S} {'PM' if received.hour >= 12 else 'AM'}",
            "SenderAddress": f"user{i % 400}@contoso.com", "RecipientAddress": f"person{i % 900}@contoso.com",
            "Subject": f"Weekly report {i}", "Status": "Pending" if i % 5 == 0 else "Delivered",
            "MessageId": f"<{i:08X}@AM0PR01MB1234.eurprd01.prod.outlook.com>",
            "MessageTraceId": f"d33e3c2f-5473-4b32-32ee-{i:012x}", "Size": str(1000 + i), "FromIP": "", "ToIP": "",
        })
    return rows


def build_estate(root: Path, servers: int, trace_rows: int) -> None:
    for n in range(servers):
        _write_utf16(root / f"EX{n:03d}" / "Get-ExchangeCertificate.txt", _fl(_certificates(n)))
    # Written in slices so that building a large estate does not need the whole text in memory at once.
    path = root / "exchange-online" / "Get-MessageTrace.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(codecs.BOM_UTF16_LE)
        for first in range(0, trace_rows, 10_000):
            rows = _trace_rows(first, min(trace_rows, first + 10_000))
            out.write(_fl(rows).encode("utf-16-le"))


def build_json(path: Path, objects: int) -> None:
    """ConvertTo-Json as Windows PowerShell writes it: an indented array, UTF-16 LE with BOM."""
    items = []
    for i in range(objects):
        items.append({"Received": f"/Date({1774000000000 + 37000 * i})/", "SenderAddress": f"user{i % 400}@contoso.com",
                      "RecipientAddress": f"person{i % 900}@contoso.com", "Subject": f"Weekly report {i}",
                      "Status": "Pending" if i % 5 == 0 else "Delivered",
                      "MessageId": f"<{i:08X}@AM0PR01MB1234.eurprd01.prod.outlook.com>",
                      "MessageTraceId": f"d33e3c2f-5473-4b32-32ee-{i:012x}", "Size": 1000 + i, "FromIP": None,
                      "ToIP": None})
    _write_utf16(path, json.dumps(items, indent=4).replace("\n", "\r\n"))


class Figures(NamedTuple):
    wall: float  # seconds, median of the runs
    cpu: float  # user + system seconds, median
    rss: float  # peak resident MiB, the largest of the runs


def _run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one child process."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", LAUNCH, *argv], capture_output=True, text=True, env=env, check=True)
    wall, cpu, rss = out.stdout.split()
    return float(wall), float(cpu), int(rss) / 1024


def _measure(argv: list[str], runs: int) -> Figures:
    samples = [_run(argv) for _ in range(runs)]
    return Figures(statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
                   max(s[2] for s in samples))


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _estate_figures(label: str, root: Path, runs: int) -> None:
    size = _size(root)
    check = [sys.executable, "-m", "hybridtls", "check", str(root), "--format", "json", "--now", NOW]
    floor = [sys.executable, "-c", FLOOR, str(root)]
    ours, theirs = _measure(check, runs), _measure(floor, runs)
    mib = size / 2**20
    print(f"{label} ({mib:.1f} MiB of UTF-16)")
    for what, got in (("hybridtls check --format json", ours), ("floor: decode + one regex per line", theirs)):
        print(f"  {what:36} wall {got.wall:6.2f}s  cpu {got.cpu:6.2f}s  peak {got.rss:5.0f} MiB "
              f"({got.rss / mib:4.1f}x input)")
    print(f"  {'check / floor':36} wall {ours.wall / theirs.wall:5.2f}x  cpu {ours.cpu / theirs.cpu:5.2f}x")
    _in_process(root)


def _in_process(root: Path) -> None:
    """Where check's time goes: reading the evidence, and running the checks (in this process)."""
    sys.path.insert(0, str(REPO / "src"))
    from hybridtls.checks import CheckContext, run_checks
    from hybridtls.evidence.loader import load_evidence

    started = time.process_time()
    evidence = load_evidence([str(root)])
    loaded = time.process_time()
    outcomes = run_checks(evidence, CheckContext(now=datetime(2026, 4, 1)))
    checked = time.process_time()
    findings = sum(len(o.findings) for o in outcomes)
    print(f"  in process: read {len(evidence.certificates)} certificates + {len(evidence.trace_entries)} trace rows "
          f"in {loaded - started:.2f}s cpu, ran the checks in {checked - loaded:.2f}s ({findings} findings)")


def _json_figures(folder: Path, counts: list[int], runs: int) -> None:
    print(f"{'ConvertTo-Json objects':34} {'MiB':>7}  {'check':>8} {'read (cpu)':>10} {'per object':>11}")
    reader = [sys.executable, "-c",
              "import sys, time; from hybridtls.evidence.loader import load_evidence; t = time.process_time(); "
              "e = load_evidence(sys.argv[1:]); print(time.process_time() - t, len(e.trace_entries))"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    for count in counts:
        path = folder / f"trace-{count}.json"
        build_json(path, count)
        check = _measure([sys.executable, "-m", "hybridtls", "check", str(path), "--format", "json", "--now", NOW], runs)
        reads = []
        for _ in range(runs):
            out = subprocess.run([*reader, str(path)], capture_output=True, text=True, env=env, check=True).stdout
            reads.append(float(out.split()[0]))
        read = statistics.median(reads)
        print(f"{count:34,} {path.stat().st_size / 2**20:7.1f}  {check.wall:7.2f}s {read:9.2f}s "
              f"{read / count * 1e6:8.1f} µs  (check cpu {check.cpu:.2f}s, peak {check.rss:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="skip the 100k-row estate and 100k JSON objects")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        print(f"{'start-up':34} {'wall':>9} {'cpu':>9} {'peak RSS':>9}")
        for label, argv in [
            ("python3 -c pass (interpreter)", [python, "-c", "pass"]),
            ("hybridtls --help", [python, "-m", "hybridtls", "--help"]),
            ("hybridtls check founding-incident", [python, "-m", "hybridtls", "check", str(FOUNDING), "--format",
                                                   "json", "--now", NOW]),
        ]:
            got = _measure(argv, max(args.runs, 5))
            print(f"{label:34} {got.wall * 1000:7.0f}ms {got.cpu * 1000:7.0f}ms {got.rss:6.0f} MiB")
        print()
        estates = [("50 servers, 10,000 trace rows", 50, 10_000)]
        if not args.quick:
            estates.append((f"50 servers, {args.large_rows:,} trace rows", 50, args.large_rows))
        for label, servers, rows in estates:
            root = base / f"estate-{rows}"
            build_estate(root, servers, rows)
            _estate_figures(label, root, args.runs)
        print()
        _json_figures(base, [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000], args.runs)


if __name__ == "__main__":
    main()
