"""Time `hybridtls check` on a month of SMTP Receive protocol logs beside a csv-module floor and DuckDB.

The logs: 30 days x 10 servers of ``RECV*.LOG`` files with their header, as Exchange writes them (CRLF, UTF-8),
about 1 GB in all by default (``--size`` in MB for quicker runs). Sessions are Exchange Online connecting to the
Default Frontend connector with STARTTLS (both TLS row styles: the older one-attribute-per-row on half the servers,
the newer single row on the others), a client connector session without TLS now and then, and one session in a
hundred failing TLS (SocketError, UnknownCredentials), so the summaries, the kept sessions and the checks all work.

Side by side, each in a fresh process started by a small launcher (CPU time and peak RSS from ``os.wait4``):
- ``hybridtls check DIR --format json``;
- the floor: ``python3`` reading the same files, decoding them and splitting every row with the ``csv`` module
  (nothing kept): what reading the bytes costs before any understanding;
- DuckDB (if installed): ``read_csv`` over the folder, grouped by session and then by connector and remote
  address (sessions, TLS successes, failures): the summary half of what hybridtls does, in C++.

Figures on 957 MiB (2026-11-30, a shared machine: CPU time is the steadier figure): hybridtls 18.3 s CPU, peak 77 MiB;
csv floor 9.1 s, 39 MiB (hybridtls 2.0x); DuckDB 3.2 s, 130 MiB. DuckDB is not made a dependency: it computes only
the summary half (hybridtls also rebuilds each session's certificates from both TLS row styles and keeps sessions
to cite), it gives no line numbers to cite a finding by, and hybridtls is already within 3x of the csv floor in
constant memory.

Usage: python bench/bench_logs.py [--size 1000] [--runs 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from bench_check import WALK_AND_DECODE  # the same walk and decoding as the other floors

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-12-01"
DAYS, SERVERS = 30, 10
FIELDS = "date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context"

FLOOR = WALK_AND_DECODE + r"""
import csv, io
rows = 0
for text in texts(sys.argv[1]):
    for row in csv.reader(io.StringIO(text)):
        rows += 1
print(rows)
"""

DUCKDB = r"""
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads TO 1")  # one core, as hybridtls and the floor use
columns = {"date_time": "VARCHAR", "connector_id": "VARCHAR", "session_id": "VARCHAR", "sequence_number": "BIGINT",
           "local_endpoint": "VARCHAR", "remote_endpoint": "VARCHAR", "event": "VARCHAR", "data": "VARCHAR",
           "context": "VARCHAR"}
rows = con.execute('''
    WITH sessions AS (
        SELECT connector_id, session_id, min(split_part(remote_endpoint, ':', 1)) AS remote,
               min(date_time) AS first, max(date_time) AS last,
               bool_or(context LIKE 'TLS protocol %succeeded%') AS ok,
               max(CASE WHEN context LIKE 'TLS negotiation failed with error %' THEN context END) AS failure
        FROM read_csv(?, columns = ?, header = false, comment = '#', quote = '"', escape = '"', delim = ',',
                      auto_detect = false, null_padding = true)
        GROUP BY connector_id, session_id)
    SELECT connector_id, remote, min(first), max(last), count(*), count(*) FILTER (WHERE ok),
           count(failure)
    FROM sessions GROUP BY connector_id, remote''', [sys.argv[1] + "/*/*.LOG", columns]).fetchall()
print(len(rows))
"""

LAUNCH = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = 0  # reaped by wait4
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""

EXO_IPS = [f"40.107.{a}.{b}" for a in (20, 21, 22, 23, 24) for b in (11, 37, 52, 75, 90, 104, 131, 160)]
OURS = ("CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US",
        "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US", "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
        "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678")
EXO = ("CN=mail.protection.outlook.com, O=Microsoft Corporation, L=Redmond, S=Washington, C=US",
       "CN=DigiCert Cloud Services CA-1, O=DigiCert Inc, C=US", "0F5E4D3C2B1A09F8E7D6C5B4A3928170",
       "6B1A0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B")
SUCCESS = ('"TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm CALG_AES_256 '
           'with strength 256 bits, MAC hash algorithm CALG_SHA_384 with strength 0 bits and key exchange algorithm '
           'CALG_ECDH_EPHEM with strength 384 bits"')


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


def _certificate_rows(marker: str, cert: tuple[str, str, str, str], single: bool) -> list[tuple[str, str, str]]:
    if single:
        values = f"{cert[0]} {cert[1]} {cert[2]} {cert[3]} 3/15/2026 12:00:00 AM 3/14/2027 11:59:59 PM mail.contoso.com"
        return [("*", _quote(values), f"{marker} Subject Issuer name Serial number Thumbprint Not before Not after "
                 "Subject alternate names")]
    return [("*", "", marker), ("*", _quote(cert[0]), "Certificate subject"),
            ("*", _quote(cert[1]), "Certificate issuer name"), ("*", cert[2], "Certificate serial number"),
            ("*", cert[3], "Certificate thumbprint")]


def _session(rng: random.Random, server: str, single: bool, number: int) -> tuple[str, list[tuple[str, str, str]]]:
    """(connector, rows (event, data, context)) of one session."""
    roll = rng.random()
    if roll < 0.05:  # a client submission: no TLS rows
        return f"{server}\\Client Frontend {server}", [
            ("+", "", ""), ("*", "SMTPSubmit SMTPAcceptAnySender SMTPAcceptAuthoritativeDomainSender AcceptRoutingHeaders",
                            "Set Session Permissions"),
            (">", f'"220 {server}.contoso.com Microsoft ESMTP MAIL Service ready"', ""), ("<", "EHLO client", ""),
            ("<", "QUIT", ""), ("-", "", "Remote")]
    host = f"AM{number % 9}PR0{number % 7}CA{number % 9973:04d}.outbound.protection.outlook.com"
    rows = [("+", "", ""),
            ("*", "SMTPSubmit SMTPAcceptAnyRecipient SMTPAcceptAuthenticationFlag SMTPAcceptAnySender BypassAntiSpam "
                  "BypassMessageSizeLimit SMTPAcceptEXCH50 AcceptRoutingHeaders", "Set Session Permissions"),
            (">", '"220 mail.contoso.com Microsoft ESMTP MAIL Service ready at Mon, 2 Nov 2026 08:15:01 +0000"', ""),
            ("<", f"EHLO {host}", ""),
            (">", "250  mail.contoso.com Hello [40.107.22.51] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES STARTTLS "
                  "X-ANONYMOUSTLS AUTH NTLM X-EXPS GSSAPI NTLM 8BITMIME BINARYMIME CHUNKING SMTPUTF8 XRDST", ""),
            ("<", "STARTTLS", ""), (">", "220 2.0.0 SMTP server ready", "")]
    rows += _certificate_rows("Sending certificate", OURS, single)
    if roll > 0.99:
        error = "SocketError" if roll > 0.995 else "UnknownCredentials"
        return f"{server}\\Default Frontend {server}", [*rows, ("*", "", f"TLS negotiation failed with error {error}"),
                                                        ("-", "", "Local")]
    rows.append(("*", "", SUCCESS))
    rows += _certificate_rows("Remote certificate" if single else "Received certificate", EXO, single)
    rows += [("<", f"EHLO {host}", ""), ("*", "", "\"Client certificate chain validation status: 'Valid'\"")]
    for message in range(rng.randint(1, 4)):
        rows += [("<", f"MAIL FROM:<user{number % 500}@fabrikam.com> SIZE={rng.randint(2000, 90000)} BODY=8BITMIME", ""),
                 (">", "250 2.1.0 Sender OK", ""), ("<", f"RCPT TO:<person{message}@contoso.com>", ""),
                 (">", "250 2.1.5 Recipient OK", ""), ("<", "BDAT 14623 LAST", ""),
                 ("*", f"{number:08X}{message};2026-11-02T08:15:01.300Z;1", "receiving message"),
                 (">", f'"250 2.6.0 <{number:X}.{message}@AM6PR05MB1234.eurprd05.prod.outlook.com> [InternalId='
                       f'{number * 7 + message}, Hostname=mail.contoso.com] 14623 bytes in 0.051, 279,613 KB/sec '
                       'Queued mail for delivery"', "")]
    return f"{server}\\Default Frontend {server}", [*rows, ("<", "QUIT", ""), (">", "221 2.0.0 Closing connection.", ""),
                                                    ("-", "", "Remote")]


def build_logs(root: Path, megabytes: int, seed: int = 7) -> int:
    """Write DAYS x SERVERS receive logs of about ``megabytes`` MB in all; returns the bytes written."""
    rng = random.Random(seed)
    per_file = megabytes * 1_000_000 // (DAYS * SERVERS)
    step = max(2, 2 * 86_400_000 * 150 // per_file)  # milliseconds between rows, at most (so a file spans about a day)
    start = datetime(2026, 11, 1)
    total = number = 0
    for s in range(SERVERS):
        server = f"EX{s + 1:02d}"
        folder = root / server
        folder.mkdir(parents=True, exist_ok=True)
        single = s % 2 == 1
        for day in range(DAYS):
            moment = start + timedelta(days=day)
            lines = [f"#Software: Microsoft Exchange Server\r\n#Version: 15.02.1544.004\r\n"
                     f"#Log-type: SMTP Receive Protocol Log\r\n#Date: {moment:%Y-%m-%dT%H:%M:%S}.000Z\r\n"
                     f"#Fields: {FIELDS}\r\n"]
            size = len(lines[0])
            open_sessions: list[tuple[str, str, str, list[tuple[str, str, str]], int]] = []
            while size < per_file or open_sessions:
                if size < per_file and len(open_sessions) < 4:
                    number += 1
                    connector, rows = _session(rng, server, single, number)
                    remote = f"{rng.choice(EXO_IPS)}:{rng.randint(1024, 65535)}"
                    open_sessions.append((f"08DE{number:012X}", connector, remote, rows, 0))
                index = rng.randrange(len(open_sessions))  # sessions interleave, as they do in a real log
                session_id, connector, remote, rows, sequence = open_sessions[index]
                moment += timedelta(milliseconds=rng.randint(1, step))  # the rows spread over the day
                event, data, context = rows[sequence]
                line = (f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z,{connector},{session_id},"
                        f"{sequence},10.0.0.{s + 5}:25,{remote},{event},{data},{context}\r\n")
                lines.append(line)
                size += len(line)
                if sequence + 1 == len(rows):
                    open_sessions.pop(index)
                else:
                    open_sessions[index] = (session_id, connector, remote, rows, sequence + 1)
            path = folder / f"RECV{start + timedelta(days=day):%Y%m%d}-1.LOG"
            path.write_text("".join(lines), encoding="utf-8", newline="")
            total += path.stat().st_size
    return total


def _run(argv: list[str]) -> tuple[float, float, float, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    out = subprocess.run([sys.executable, "-c", LAUNCH, *argv], capture_output=True, text=True, env=env, check=True)
    wall, cpu, rss, code = out.stdout.split()
    return float(wall), float(cpu), int(rss) / 1024, int(code)


def _measure(argv: list[str], runs: int) -> tuple[float, float, float, int]:
    samples = [_run(argv) for _ in range(runs)]
    return (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
            max(s[2] for s in samples), samples[-1][3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="MB of logs to generate (default 1000)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder instead of a temporary one")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="hybridtls-bench-logs-"))
    try:
        root = base / "logs"
        if not root.exists():
            written = build_logs(root, args.size)
        else:
            written = sum(p.stat().st_size for p in root.rglob("*.LOG"))
        mib = written / 2**20
        print(f"{DAYS} days x {SERVERS} servers of SMTP Receive protocol logs: {mib:,.0f} MiB in {DAYS * SERVERS} files")
        python = sys.executable
        contenders = [("hybridtls check --format json", [python, "-m", "hybridtls", "check", str(root), "--format",
                                                         "json", "--now", NOW]),
                      ("floor: python3 csv module, every row", [python, "-c", FLOOR, str(root)])]
        if importlib.util.find_spec("duckdb"):
            contenders.append(("duckdb read_csv + group by (1 thread)", [python, "-c", DUCKDB, str(root)]))
        else:
            print("  (duckdb not installed: pip install duckdb to measure it)")
        results = {}
        for label, argv in contenders:
            wall, cpu, rss, code = results[label] = _measure(argv, args.runs)
            print(f"  {label:40} wall {wall:7.2f}s  cpu {cpu:7.2f}s  peak {rss:6.0f} MiB  exit {code}  "
                  f"({mib / wall:5.1f} MiB/s)")
        ours, floor = results[contenders[0][0]], results[contenders[1][0]]
        print(f"  {'hybridtls / floor':40} wall {ours[0] / floor[0]:6.2f}x  cpu {ours[1] / floor[1]:6.2f}x")
        if len(contenders) > 2:
            duck = results[contenders[2][0]]
            print(f"  {'hybridtls / duckdb':40} wall {ours[0] / duck[0]:6.2f}x  cpu {ours[1] / duck[1]:6.2f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
