"""``hybridtls probe --nagios``: one status line that parses per the Nagios plugin guidelines, and the exit status
by the worst finding, against a real STARTTLS server on loopback presenting certificates built here."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import run_cli
from cryptography.hazmat.primitives import serialization
from factory import Issued, Pki, issue, name, public_like_pki, rsa_key
from hypothesis import given
from hypothesis import strategies as st
from test_hostile_servers import LoopbackServer, _greet_then_starttls, tls_after_starttls

from hybridtls.report.escape import inert
from hybridtls.report.nagios import perf_label

STATUS = re.compile(r"^HYBRIDTLS (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.+))?$")
# 'label'=value[UOM];[warn];[crit];[min];[max], the label quoted with '' for a quote inside, or bare without
# spaces, quotes or '='; ranges as the guidelines write them ([@][start:][end], ~ for minus infinity)
RANGE = r"@?(?:~|-?[0-9.]+)?:?(?:-?[0-9.]+)?"
PERF = re.compile(rf"('(?:[^']|'')+'|[^ '=]+)=(-?[0-9.]+)(s|ms|us|%|B|KB|MB|TB|c)?"
                  rf"(?:;({RANGE}))?(?:;({RANGE}))?(?:;(-?[0-9.]*))?(?:;(-?[0-9.]*))?(?= |$)")


@dataclass
class Perf:
    label: str
    value: float
    unit: str
    warn: str
    crit: str
    minimum: str


def parse_plugin_output(text: str) -> tuple[str, str, list[Perf]]:
    """The status, the summary and the performance data of a plugin's first line; fails on anything else."""
    first = text.split("\n")[0]
    match = STATUS.match(first)
    assert match, first
    perfdata = match[3] or ""
    items, position = [], 0
    while position < len(perfdata):
        item = PERF.match(perfdata, position)
        assert item, perfdata[position:]
        label = item[1][1:-1].replace("''", "'") if item[1].startswith("'") else item[1]
        items.append(Perf(label, float(item[2]), item[3] or "", item[4] or "", item[5] or "", item[6] or ""))
        position = item.end() + 1
    return match[1], match[2], items


def _pem(issued: Issued) -> bytes:
    return issued.pem


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    servers: list[LoopbackServer] = []

    def start(*chain: Issued) -> int:
        cert_file, key_file = tmp_path / f"chain{len(servers)}.pem", tmp_path / f"key{len(servers)}.pem"
        cert_file.write_bytes(b"".join(_pem(c) for c in chain))
        key_file.write_bytes(chain[0].key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)

        server = LoopbackServer(tls_after_starttls(context)).__enter__()
        servers.append(server)
        return server.port

    yield start
    for server in servers:
        server.__exit__()


NOW = datetime.now(timezone.utc)


def _pki(**leaf: object) -> Pki:
    return public_like_pki(leaf_dns=("mail.contoso.com",), **leaf)


def _probe(tmp_path: Path, port: int, pki: Pki, *extra: str) -> tuple[int, str, str]:
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.pem)
    run = run_cli("probe", f"127.0.0.1:{port}", "--expect-name", "mail.contoso.com", "--trust", str(root),
                  "--timeout", "10", "--no-sweep", "--nagios", *extra)
    return run.code, run.out, run.err


def test_a_healthy_server_is_ok_with_its_days_and_handshake_time(tls_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki = _pki(not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=90))
    port = tls_server(pki.leaf, pki.intermediate)
    code, out, _ = _probe(tmp_path, port, pki)
    status, summary, perf = parse_plugin_output(out)
    assert (code, status) == (0, "OK"), out
    assert summary.startswith("1 of 1 address answered")
    days, handshake = perf
    assert days.label == f"days_left 127.0.0.1:{port}" and 89 < days.value <= 90 and days.unit == ""
    assert (days.warn, days.crit) == ("30:", "0:")  # below 30 days: warning; below 0: critical
    assert handshake.label == f"handshake 127.0.0.1:{port}" and handshake.unit == "ms" and handshake.value >= 0


def test_a_certificate_expiring_soon_is_a_warning(tls_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki = _pki(not_before=NOW - timedelta(days=80), not_after=NOW + timedelta(days=10))
    port = tls_server(pki.leaf, pki.intermediate)
    code, out, _ = _probe(tmp_path, port, pki)
    status, summary, perf = parse_plugin_output(out)
    assert (code, status) == (1, "WARNING"), out
    # no check of a probe finds "expires soon": the performance data's own threshold (30:) says WARNING
    assert summary.endswith(f"127.0.0.1:{port} serves a certificate that expires in 10 days") and 9 < perf[0].value <= 10


def test_an_untrusted_chain_is_critical(tls_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki = _pki(not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=90))
    stranger = issue(name("Stranger Root"), key=rsa_key(slot=4), ca=True)
    port = tls_server(pki.leaf, pki.intermediate)
    root = tmp_path / "stranger.pem"
    root.write_bytes(stranger.pem)
    run = run_cli("probe", f"127.0.0.1:{port}", "--expect-name", "mail.contoso.com", "--trust", str(root),
                  "--timeout", "10", "--no-sweep", "--nagios")
    status, summary, _ = parse_plugin_output(run.out)
    assert (run.code, status) == (2, "CRITICAL"), run.out
    assert re.search(r"\b1 error\b.*; HT-", summary)  # the worst finding named on the status line
    assert any(line.startswith("ERROR HT-") for line in run.out.splitlines()[1:])  # each finding, in long output


def test_an_expired_certificate_is_critical(tls_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki = _pki(not_before=NOW - timedelta(days=100), not_after=NOW - timedelta(days=2))
    port = tls_server(pki.leaf, pki.intermediate)
    code, out, _ = _probe(tmp_path, port, pki)
    status, summary, perf = parse_plugin_output(out)
    assert (code, status) == (2, "CRITICAL") and -3 < perf[0].value < -1, out
    assert "expired 2 days ago" in summary


def test_no_address_answering_is_unknown() -> None:
    with LoopbackServer(_greet_then_starttls) as server:
        port = server.port
    run = run_cli("probe", f"127.0.0.1:{port}", "--timeout", "2", "--nagios")
    status, summary, perf = parse_plugin_output(run.out)
    assert (run.code, status) == (3, "UNKNOWN") and summary.startswith("0 of 1 address answered")
    assert perf == []  # no handshake, no certificate: no numbers made up


@pytest.mark.parametrize("argv", [["probe", "--nagios"], ["probe", "[zz::1]:25", "--nagios"],
                                  ["probe", "x", "--nagios", "--concurrency", "0"],
                                  ["probe", "127.0.0.1:1", "--nagios", "--format", "json"]])
def test_bad_usage_is_unknown(argv: list[str]) -> None:
    run = run_cli(*argv)
    status, _, _ = parse_plugin_output(run.out)
    assert (run.code, status) == (3, "UNKNOWN") and run.out.count("\n") == 1


@given(st.text(min_size=1, max_size=60))
def test_any_label_parses_back(label: str) -> None:
    quoted = perf_label(label)
    _, _, [perf] = parse_plugin_output(f"HYBRIDTLS OK - x | {quoted}=1ms;;;0")
    assert perf.label == inert(label, single_line=True).replace("|", "/") and "\n" not in perf.label
    assert perf.value == 1 and perf.unit == "ms"
