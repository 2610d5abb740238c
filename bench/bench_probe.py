"""Probe N loopback Postfix endpoints with hybridtls, beside openssl s_client doing the same work.

The same work per endpoint: one handshake after STARTTLS that captures and verifies the chain, plus a
TLS 1.0 / 1.1 / 1.2 / 1.3 acceptance sweep. openssl runs as a script (five s_client runs per endpoint; ten
endpoints at a time for the many-endpoint figure); sslyze and testssl.sh are timed too when installed.
Start-up is included for hybridtls (a fresh process each run). Needs root and Debian's postfix.
Usage: python bench/bench_probe.py [--endpoints 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from cryptography.hazmat.primitives import serialization  # noqa: E402
from factory import public_like_pki  # noqa: E402
from postfix import Postfix, Scenario, available  # noqa: E402

BASE_PORT = 2700


def _timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _openssl_endpoint(port: int, root: Path) -> None:
    def s_client(*flags: str) -> None:
        subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}", *flags],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)

    s_client("-CAfile", str(root), "-verify_return_error", "-showcerts")
    for version in ("-tls1", "-tls1_1", "-tls1_2", "-tls1_3"):
        s_client(version)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--with-testssl", action="store_true",
                        help="also time testssl.sh; it looks names up at start, so run it only with DNS on loopback")
    args = parser.parse_args()
    if not available():
        sys.exit("bench_probe needs root and Debian's postfix package")
    pki = public_like_pki(leaf_dns=("mx.contoso.test",))
    key = pki.leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    chain = key + pki.leaf.pem + pki.intermediate.pem
    base = Path(tempfile.mkdtemp(prefix="hybridtls-bench-"))
    base.chmod(0o755)
    root = base / "root.pem"
    root.write_bytes(pki.root.pem)
    servers = [Postfix(base, Scenario(f"ep{i}", "127.0.0.1", BASE_PORT + i, chain)) for i in range(args.endpoints)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda s: s.start(), servers))
            list(pool.map(lambda s: s.wait_ready(), servers))
        exe = shutil.which("hybridtls") or sys.executable
        prefix = [exe] if exe.endswith("hybridtls") else [exe, "-m", "hybridtls"]
        targets = [f"127.0.0.1:{BASE_PORT + i}" for i in range(args.endpoints)]

        def ours(count: int) -> None:
            subprocess.run([*prefix, "probe", *targets[:count], "--trust", str(root), "--format", "json",
                            "--concurrency", "10"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def theirs(count: int) -> None:
            with ThreadPoolExecutor(max_workers=10) as pool:
                list(pool.map(lambda port: _openssl_endpoint(port, root), range(BASE_PORT, BASE_PORT + count)))

        print(f"{args.endpoints} loopback Postfix endpoints (leaf + intermediate, TLS 1.2 and 1.3), "
              f"median of {args.runs} runs")
        print(f"{'what':52} {'1 endpoint':>11} {f'{args.endpoints} endpoints':>13}")
        rows = [("hybridtls probe (handshake + 4-version sweep)", ours),
                ("openssl s_client script (same work, 10 at a time)", theirs)]
        peers = (("sslyze (certinfo + TLS 1.0-1.3 scans)",
                  ["sslyze", "--starttls", "smtp", "--certinfo", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3"]),
                 ("testssl.sh (-t smtp -p -S)", ["testssl.sh", "-t", "smtp", "-p", "-S", "--nodns", "none"]))
        for extra, command in peers:
            if shutil.which(command[0]) and (extra.startswith("sslyze") or args.with_testssl):
                rows.append((extra, lambda n, c=command: [subprocess.run([*c, t], stdout=subprocess.DEVNULL,
                                                                         stderr=subprocess.DEVNULL)
                                                          for t in targets[:n]]))
            else:
                print(f"{extra}: not installed, left out")
        figures = {}
        for label, work in rows:
            one = statistics.median(_timed(partial(work, 1)) for _ in range(args.runs))
            many = statistics.median(_timed(partial(work, args.endpoints)) for _ in range(args.runs))
            figures[label] = (one, many)
            print(f"{label:52} {one:10.2f}s {many:12.2f}s")
        ours_one, ours_many = figures[rows[0][0]]
        theirs_one, theirs_many = figures[rows[1][0]]
        print(f"ratio openssl/hybridtls: {theirs_one / ours_one:.2f}x for 1 endpoint, "
              f"{theirs_many / ours_many:.2f}x for {args.endpoints}")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
