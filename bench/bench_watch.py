"""One watch round over 1,000 loopback addresses with hybridtls, beside openssl s_client on the same addresses;
then the memory of a watch over 1,000 rounds (probe, observe_round, History.record).

A small asyncio STARTTLS server (its own process) listens on 127.1.x.y:PORT for every address (Linux routes all of
127/8 to lo) and presents a leaf + intermediate built with cryptography. hybridtls probes every address through
``probe_and_judge_async`` with the concurrency a watch uses (its --concurrency, default 10), judging each chain;
openssl s_client -starttls smtp runs as asyncio subprocesses at the same concurrency, verifying against the same
root. No sweep on either side (one handshake per address), so the work is the same.
Usage: python bench/bench_watch.py [--addresses 1000] [--concurrency 10] [--rounds 1000] [--memory-addresses 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "probe"))
from cryptography.hazmat.primitives import serialization  # noqa: E402
from factory import public_like_pki  # noqa: E402

PORT = 2525


def addresses(count: int) -> list[str]:
    return [f"127.1.{index // 250}.{index % 250 + 1}" for index in range(count)]


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(count: int, folder: Path) -> None:
    """The server process: listen on every address, say "ready" once all listen, run until stdin closes."""
    from test_hostile_servers import tls_after_starttls

    _raise_file_limit()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    handler = tls_after_starttls(context)

    async def main() -> None:
        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            except (ConnectionError, OSError, ssl.SSLError):
                pass
            finally:
                writer.close()

        servers = [await asyncio.start_server(guarded, address, PORT, backlog=64) for address in addresses(count)]
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        for server in servers:
            server.close()

    asyncio.run(main())


async def ours(targets: list[str], root: Path, concurrency: int) -> tuple[float, int]:
    from hybridtls.pipeline import ProbeOptions, TrustOptions, probe_and_judge_async

    started = time.perf_counter()
    report = await probe_and_judge_async(targets, options=ProbeOptions(concurrency=concurrency, sweep=False,
                                                                       timeout=30, deadline=600),
                                         trust=TrustOptions(trust=(str(root),)), fail_on=None)
    return time.perf_counter() - started, sum(p.outcome.value == "ok" for p in report.evidence.probes)


async def theirs(targets: list[str], root: Path, concurrency: int) -> tuple[float, int]:
    gate = asyncio.Semaphore(concurrency)

    async def one(target: str) -> bool:
        async with gate:
            process = await asyncio.create_subprocess_exec(
                "openssl", "s_client", "-starttls", "smtp", "-connect", target, "-CAfile", str(root),
                "-verify_return_error", "-showcerts", stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            return await asyncio.wait_for(process.wait(), 60) == 0

    started = time.perf_counter()
    results = await asyncio.gather(*(one(t) for t in targets))
    return time.perf_counter() - started, sum(results)


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def memory(targets: list[str], root: Path, rounds: int, folder: Path) -> None:
    from hybridtls.pipeline import ProbeOptions, TrustOptions, probe_and_judge_async
    from hybridtls.watch.history import History
    from hybridtls.watch.observe import observe_round

    options = ProbeOptions(concurrency=10, sweep=False, timeout=30)
    trust = TrustOptions(trust=(str(root),))
    tracemalloc.start()
    print(f"\nmemory of a watch over {len(targets)} addresses: probe + observe_round + History.record each round")
    print(f"{'round':>6} {'RSS now':>10} {'peak RSS':>10} {'traced now':>11} {'history db':>11}")
    with History.open(folder / "watch.db") as history:
        for number in range(1, rounds + 1):
            started = datetime.now(timezone.utc)
            report = await probe_and_judge_async(targets, options=options, trust=trust, fail_on=None)
            history.record(observe_round(report, number=history.next_round_number(), started_at=started,
                                         finished_at=datetime.now(timezone.utc)))
            if number in (1, 10, 100, 1000, rounds):
                traced, _ = tracemalloc.get_traced_memory()
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                size = sum(f.stat().st_size for f in folder.glob("watch.db*"))
                print(f"{number:6} {_rss_kib() / 1024:9.1f}M {peak / 1024:9.1f}M {traced / 2**20:10.1f}M "
                      f"{size / 2**20:10.1f}M", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1000, help="rounds for the memory figure (0: skip it)")
    parser.add_argument("--memory-addresses", type=int, default=10)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.addresses, args.serve)
        return
    if not shutil.which("openssl"):
        sys.exit("bench_watch needs openssl")
    _raise_file_limit()
    folder = Path(tempfile.mkdtemp(prefix="hybridtls-bench-watch-"))
    pki = public_like_pki(leaf_dns=("mx.contoso.test",))
    (folder / "chain.pem").write_bytes(pki.leaf.pem + pki.intermediate.pem)
    (folder / "key.pem").write_bytes(pki.leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    root = folder / "root.pem"
    root.write_bytes(pki.root.pem)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(folder), "--addresses", str(args.addresses)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            sys.exit("the loopback server did not start")
        targets = [f"{address}:{PORT}" for address in addresses(args.addresses)]
        print(f"one round over {args.addresses} loopback addresses (asyncio STARTTLS server, leaf + intermediate), "
              f"{args.concurrency} at a time, no version sweep")
        print(f"{'what':58} {'seconds':>8} {'per s':>7} {'ok':>6}")
        for label, work in (("hybridtls probe_and_judge_async (probe + judge)", ours),
                            ("openssl s_client -starttls smtp -verify_return_error", theirs)):
            took, ok = asyncio.run(work(targets, root, args.concurrency))
            print(f"{label:58} {took:8.2f} {args.addresses / took:7.0f} {ok:6}", flush=True)
        if args.rounds:
            asyncio.run(memory(targets[:args.memory_addresses], root, args.rounds, folder))
    finally:
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
