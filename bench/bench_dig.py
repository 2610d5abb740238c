"""Read a long ``dig`` transcript of TLSA answers (``--answers`` of them, two TLSA records and an RRSIG each, the
data cut into dig's 56-digit words) and compare time and what comes out.

Side by side, best of ``--runs`` in this process (wall time):
- hybridtls's reader (``evidence.dig.read_dig``: one pass, line by line, records with their file lines, each
  answer's ``ad`` flag, the rest handed to the console reader);
- dnspython (the peer that parses DNS presentation format): ``dns.rrset.from_text`` on each TLSA line, found by the
  same line test, which gives records but neither lines to cite nor the ``ad`` flag of the answer they came in;
- the floor: one regular expression over the text, finding the TLSA lines and nothing else.
Correctness: every record's owner name, usage, selector, matching type and data compared with what was written.

Figures (2026-11-30, 20,000 answers, 40,000 TLSA records, 15.4 MB of text, best of 5; a shared, noisy machine):
hybridtls 1.95 s (49 us a record, every record right, with its line and its answer's ad flag); dnspython 2.9.2
2.88 s (72 us a record, every record right, no lines, no flag); floor 0.39 s. Runs of 3 on the same machine ranged
1.95-4.5 s for hybridtls and 2.9-13 s for dnspython: compare within one run only.

Usage: python bench/bench_dig.py [--answers 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src")]

from timing import best  # noqa: E402

from hybridtls.evidence.dig import read_dig  # noqa: E402
from hybridtls.model import DnsAnswerStatus, TlsaRecord  # noqa: E402

_TLSA_LINE = re.compile(r"^(\S+)\s+(\d+)\s+IN\s+TLSA\s+(\d+) (\d+) (\d+) ([0-9A-F ]+)$", re.MULTILINE)


def transcript(answers: int) -> tuple[str, list[tuple[str, int, int, int, str]]]:
    lines, expected = [], []
    for n in range(answers):
        host = f"_25._tcp.mx{n}.contoso.com"
        lines += [f"$ dig +dnssec TLSA {host}", "", f"; <<>> DiG 9.18.28 <<>> +dnssec TLSA {host}",
                  ";; global options: +cmd", ";; Got answer:",
                  f";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: {n % 65536}",
                  f";; flags: qr rd ra{' ad' if n % 2 else ''}; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1", "",
                  ";; QUESTION SECTION:", f";{host}.\t\tIN\tTLSA", "", ";; ANSWER SECTION:"]
        for usage in (3, 2):
            data = (f"{n:08X}{usage:02X}" * 8)[:64]
            words = " ".join(data[i:i + 56] for i in range(0, len(data), 56))
            lines.append(f"{host}. 3600\tIN\tTLSA\t{usage} 1 1 {words}")
            expected.append((host, usage, 1, 1, data.casefold()))
        lines += [f"{host}. 3600\tIN\tRRSIG\tTLSA 13 5 3600 20261214000000 20261130000000 34505 contoso.com. AbC=",
                  "", ";; Query time: 24 msec", ";; SERVER: 127.0.0.1#53(127.0.0.1) (UDP)", ""]
    return "\n".join(lines) + "\n", expected


def ours(text: str) -> list[tuple[str, int, int, int, str]]:
    records = [r for r in read_dig(text, "dig.txt") if isinstance(r, (TlsaRecord, DnsAnswerStatus))]
    return [(r.name, r.usage, r.selector, r.matching_type, r.data_hex) for r in records if isinstance(r, TlsaRecord)]


def dnspython(text: str) -> list[tuple[str, int, int, int, str]]:
    import dns.rrset

    out = []
    for match in _TLSA_LINE.finditer(text):
        rrset = dns.rrset.from_text(match[1], int(match[2]), "IN", "TLSA",
                                    f"{match[3]} {match[4]} {match[5]} {match[6]}")
        for rdata in rrset:
            out.append((match[1].rstrip("."), rdata.usage, rdata.selector, rdata.mtype, rdata.cert.hex()))
    return out


def floor(text: str) -> int:
    return sum(1 for _ in _TLSA_LINE.finditer(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text, expected = transcript(args.answers)
    print(f"{args.answers:,} answers, {len(expected):,} TLSA records, {len(text) / 1e6:.1f} MB of text")
    seconds, got = best(args.runs, lambda: ours(text))
    print(f"  hybridtls read_dig   {seconds:7.2f} s  ({seconds / len(expected) * 1e6:6.1f} us a record)  "
          f"right: {got == expected}")
    seconds, got = best(args.runs, lambda: dnspython(text))
    print(f"  dnspython rrset      {seconds:7.2f} s  ({seconds / len(expected) * 1e6:6.1f} us a record)  "
          f"right: {got == expected}  (no lines, no ad flag)")
    seconds, count = best(args.runs, lambda: floor(text))
    print(f"  floor (one regex)    {seconds:7.2f} s  ({count:,} lines found)")


if __name__ == "__main__":
    main()
