"""probe --mx and MTA-STS on loopback: a dnslib server on 127.0.0.1 with the domain's MX, _mta-sts, _smtp._tls and
mta-sts records, an HTTPS policy server with a certificate from a test CA (given with --trust), and hostile policy
servers that must end in a clear outcome, bounded in time and size."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from cryptography.hazmat.primitives import serialization
from dnslib import MX as MXRecord
from dnslib import QTYPE, RR, TXT, A
from dnslib.server import BaseResolver, DNSServer
from factory import Issued, issue, name, public_like_pki, rsa_key
from test_hostile_servers import LoopbackServer
from test_json_model import valid

from hybridtls.model import PolicyFetch, PolicyMode
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.sts_fetch import MAX_POLICY_BYTES, FetchSettings, look_up

JUDGED = "2026-11-27T12:00"
DOMAIN = "contoso.test"
POLICY = (b"version: STSv1\r\nmode: enforce\r\nmx: mx1.contoso.test\r\nmx: *.mail.contoso.test\r\n"
          b"max_age: 604800\r\n")
PKI = public_like_pki(leaf_dns=("mta-sts.contoso.test",))
Respond = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Zone(BaseResolver):  # type: ignore[misc]
    """contoso.test's records, as given; every address is loopback (the MX hosts: a port where nothing listens)."""

    def __init__(self, records: dict[tuple[str, str], list[object]]) -> None:
        self.records = records

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        qname, qtype = str(request.q.qname).rstrip("."), QTYPE[request.q.qtype]
        for rdata in self.records.get((qname, qtype), []):
            reply.add_answer(RR(request.q.qname, getattr(QTYPE, qtype), rdata=rdata, ttl=60))
        return reply


def zone(sts: list[str] | None = None, rpt: list[str] | None = None,
         mx: tuple[str, ...] = ("mx1.contoso.test", "mx2.other.test")) -> dict[tuple[str, str], list[object]]:
    records: dict[tuple[str, str], list[object]] = {
        (DOMAIN, "MX"): [MXRecord(f"{host}.", 10 * (i + 1)) for i, host in enumerate(mx)],
        ("mta-sts.contoso.test", "A"): [A("127.0.0.1")],
        ("_mta-sts.contoso.test", "TXT"): [TXT(t) for t in (["v=STSv1; id=2026113001;"] if sts is None else sts)],
        ("_smtp._tls.contoso.test", "TXT"): [TXT(t) for t in (
            ["v=TLSRPTv1; rua=mailto:tlsrpt@contoso.test"] if rpt is None else rpt)],
    }
    for host in mx:
        records[(host, "A")] = [A("127.0.0.9")]
    return records


@pytest.fixture
def dns() -> Iterator[Callable[[dict[tuple[str, str], list[object]]], str]]:
    servers = []

    def serve(records: dict[tuple[str, str], list[object]]) -> str:
        server = DNSServer(Zone(records), port=0, address="127.0.0.1")
        server.start_thread()
        servers.append(server)
        return f"127.0.0.1:{server.server.server_address[1]}"

    yield serve
    for server in servers:
        server.stop()


def tls_context(tmp_path: Path, leaf: Issued, *others: Issued) -> ssl.SSLContext:
    chain = tmp_path / "policy-host.pem"
    chain.write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()) + leaf.pem + b"".join(o.pem for o in others))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return context


def answer(status: str = "200 OK", body: bytes = POLICY, content_type: str = "text/plain; charset=utf-8",
           extra: str = "") -> Respond:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n{extra}"
                     "Connection: close\r\n\r\n".encode() + body)
        await writer.drain()

    return respond


class PolicyServer(LoopbackServer):
    """An HTTPS server on 127.0.0.1 (an ephemeral port) that answers every request with ``respond``."""

    def __init__(self, respond: Respond, context: ssl.SSLContext) -> None:
        super().__init__(respond)
        self.context = context

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.server = await asyncio.start_server(self._guarded, "127.0.0.1", 0, ssl=self.context)
            self.port = self.server.sockets[0].getsockname()[1]
            self.ready.set()

        self.loop.run_until_complete(main())
        self.loop.run_forever()


@pytest.fixture
def trust(tmp_path: Path) -> str:
    path = tmp_path / "root.pem"
    path.write_bytes(PKI.root.pem)
    return str(path)


def probe(nameserver: str, port: int, trust: str, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    run = run_cli("probe", f"--mx={DOMAIN}", "--nameserver", nameserver, "--mta-sts-port", str(port),
                  "--trust", trust, "--no-sweep", "--timeout", "3", "--format", "json", "--now", JUDGED, *extra)
    assert not run.err.startswith("hybridtls: error"), run.err
    return run.code, valid(json.loads(run.out))


def test_the_policy_is_fetched_and_every_mx_matched(dns, trust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with PolicyServer(answer(), tls_context(tmp_path, PKI.leaf, PKI.intermediate)) as server:
        code, document = probe(dns(zone()), server.port, trust)
    [result] = document["records"]["mta_sts"]
    assert result["domain"] == DOMAIN and result["policy_id"] == "2026113001"
    assert result["fetch"] == "ok" and result["http_status"] == 200 and result["policy_address"] == "127.0.0.1"
    assert result["policy"]["mode"] == "enforce" and result["policy"]["max_age"] == 604800
    assert [(m["host"], m["pattern"]) for m in result["mx_matches"]] == [
        ("mx1.contoso.test", "mx1.contoso.test"), ("mx2.other.test", None)]
    assert result["host_name_covered"] is True and result["host_chain_judged"]["end"] == "trusted"
    assert result["tlsrpt_rua"] == ["mailto:tlsrpt@contoso.test"]
    assert code == 3  # the MX hosts themselves refused: nothing listens on 127.0.0.9:25


def test_no_record_means_no_fetch(dns, trust) -> None:  # type: ignore[no-untyped-def]
    code, document = probe(dns(zone(sts=[], rpt=[])), 9, trust)
    [result] = document["records"]["mta_sts"]
    assert result["fetch"] == "not_tried" and result["policy"] is None and result["sts_record"]["record"] is None
    assert result["tlsrpt_record"]["record"] is None


def test_no_mta_sts_skips_the_lookup(dns, trust) -> None:  # type: ignore[no-untyped-def]
    _, document = probe(dns(zone()), 9, trust, "--no-mta-sts")
    assert document["records"]["mta_sts"] == []


def test_an_untrusted_policy_host_is_captured_as_served(dns, trust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = issue(name("www.fabrikam.test"), key=rsa_key(slot=13), dns=("www.fabrikam.test",))
    with PolicyServer(answer(), tls_context(tmp_path, other)) as server:
        _, document = probe(dns(zone()), server.port, trust)
    [result] = document["records"]["mta_sts"]
    assert result["fetch"] == "ok"  # a sender would refuse it; the probe records it and the checks say so
    assert result["host_name_covered"] is False and result["host_chain_judged"]["end"] != "trusted"
    assert result["host_chain"][0]["subject"] == "CN=www.fabrikam.test"


# Hostile or broken policy servers, fetched directly (the TXT records come from a stand-in resolution).

class Records(Resolution):
    def __init__(self, sts: tuple[str, ...] = ("v=STSv1; id=1;",)) -> None:
        super().__init__(pinned={"mta-sts.contoso.test": ("127.0.0.1",)})
        self.sts = sts

    async def txt(self, name: str) -> tuple[tuple[str, ...], str]:
        return (self.sts if name.startswith("_mta-sts.") else ()), ""


def fetch(respond: Respond, tmp_path: Path, settings: dict[str, float] | None = None):  # type: ignore[no-untyped-def]
    with PolicyServer(respond, tls_context(tmp_path, PKI.leaf, PKI.intermediate)) as server:
        options = {"timeout": 2.0, "total": 3.0, **(settings or {})}
        return asyncio.run(look_up(DOMAIN, ["mx1.contoso.test"], Records(),
                                   FetchSettings(port=server.port, **options)))


def endless(head: bytes, piece: bytes) -> Respond:
    """A server that sends ``head`` and then ``piece`` over and over, far beyond any bound of the client's."""

    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head)
        for _ in range(10_000):
            if writer.is_closing():
                return
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0)  # a transport whose peer has gone drops writes without pausing us

    return respond


endless_body = endless(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"mx: a.contoso.test\n" * 1000)
endless_chunks = endless(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
                         b"400\r\n" + b"x" * 1024 + b"\r\n")
endless_headers = endless(b"HTTP/1.1 200 OK\r\n", b"X-Filler: " + b"y" * 1000 + b"\r\n")


async def slow_loris(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + b"X-Slow: " + b"z" * 10_000:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.2)
        if writer.is_closing():
            return


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def chunked_policy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    head, tail = POLICY[:20], POLICY[20:]
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + f"{len(head):x}\r\n".encode() + head + b"\r\n" + f"{len(tail):x};ext=1\r\n".encode() + tail
                 + b"\r\n0\r\n\r\n")
    await writer.drain()


@pytest.mark.parametrize(("respond", "outcome", "said"), [
    (answer("301 Moved Permanently", b"", extra="Location: https://www.contoso.test/sts.txt\r\n"),
     PolicyFetch.REDIRECT, "https://www.contoso.test/sts.txt"),
    (answer("404 Not Found", b"nope"), PolicyFetch.HTTP_STATUS, "HTTP 404"),
    (answer(content_type="text/html"), PolicyFetch.CONTENT_TYPE, "'text/html'"),
    (answer(body=b"x" * (10 * 1024 * 1024)), PolicyFetch.TOO_LARGE, f"larger than {MAX_POLICY_BYTES}"),
    (endless_body, PolicyFetch.TOO_LARGE, f"larger than {MAX_POLICY_BYTES}"),
    (endless_chunks, PolicyFetch.TOO_LARGE, f"larger than {MAX_POLICY_BYTES}"),
    (endless_headers, PolicyFetch.PROTOCOL_ERROR, "headers are longer than"),
    (slow_loris, PolicyFetch.TIMEOUT, "longer than 3 s"),
    (silent, PolicyFetch.TIMEOUT, ""),
], ids=["redirect", "404", "html", "10MB", "endless-body", "endless-chunks", "endless-headers", "slow-loris", "silent"])
def test_a_hostile_or_broken_policy_server_ends_in_a_clear_outcome(respond, outcome, said, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = fetch(respond, tmp_path)
    assert result.fetch is outcome, (result.fetch, result.fetch_detail)
    assert said in result.fetch_detail
    assert result.policy is None and result.mx_matches == ()


def test_what_a_sender_passes_over_is_shown(dns, trust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with PolicyServer(answer(body=POLICY + b"mode: testing\r\n"), tls_context(tmp_path, PKI.leaf, PKI.intermediate)) \
            as server:
        run = run_cli("probe", f"--mx={DOMAIN}", "--nameserver", dns(zone()), "--mta-sts-port", str(server.port),
                      "--trust", trust, "--no-sweep", "--timeout", "3", "--format", "markdown", "--now", JUDGED)
    assert "enforce, max\\_age 604800" in run.out  # Markdown escapes the underscore
    assert "passed over: line 6: mode appears again ('testing'); the first value, on line 2, counts" in run.out


def test_a_chunked_policy_reads_whole(tmp_path: Path) -> None:
    result = fetch(chunked_policy, tmp_path)
    assert result.fetch is PolicyFetch.OK and result.policy is not None and result.policy.valid
    assert result.policy.mode is PolicyMode.ENFORCE and [m.pattern for m in result.mx_matches] == ["mx1.contoso.test"]


async def plain_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(1)


def test_a_plain_http_server_on_the_https_port_is_a_tls_failure(tmp_path: Path) -> None:
    with LoopbackServer(plain_http) as server:
        result = asyncio.run(look_up(DOMAIN, [], Records(), FetchSettings(timeout=2, total=3, port=server.port)))
    assert result.fetch is PolicyFetch.TLS_FAILED, result.fetch_detail
    assert result.host_chain == ()


def test_nothing_listening_is_refused() -> None:
    result = asyncio.run(look_up(DOMAIN, [], Records(), FetchSettings(timeout=2, total=3, port=9)))
    assert result.fetch is PolicyFetch.REFUSED and result.policy_address == "127.0.0.1"


def test_a_saved_probe_gives_its_mta_sts_to_check(dns, trust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with PolicyServer(answer(), tls_context(tmp_path, PKI.leaf, PKI.intermediate)) as server:
        _, document = probe(dns(zone()), server.port, trust)
    assert {f["check_id"] for f in document["findings"]} >= {"HT-STS-001"}
    saved = tmp_path / "probe.json"
    saved.write_text(json.dumps(document))
    run = run_cli("check", str(saved), "--format", "json", "--now", JUDGED)
    checked = valid(json.loads(run.out))
    [result] = checked["records"]["mta_sts"]
    assert result["host_chain_judged"]["end"] == "trusted"  # judged again, with the anchor the probe recorded
    assert [(m["host"], m["pattern"]) for m in result["mx_matches"]] == [
        ("mx1.contoso.test", "mx1.contoso.test"), ("mx2.other.test", None)]
    sts = sorted((f["check_id"], f["severity"]) for f in checked["findings"] if f["check_id"].startswith("HT-STS"))
    assert sts == [("HT-STS-001", "error")]
    assert "mx2.other.test" in next(f["message"] for f in checked["findings"] if f["check_id"] == "HT-STS-001")


def test_a_saved_policy_is_read_again_not_believed(dns, trust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with PolicyServer(answer(), tls_context(tmp_path, PKI.leaf, PKI.intermediate)) as server:
        _, document = probe(dns(zone()), server.port, trust)
    [result] = document["records"]["mta_sts"]
    result["policy"]["text"] = result["policy"]["text"].replace("mx2", "mx9") + "mx: mx2.other.test\n"
    result["mx_matches"] = []  # a verdict written beside the facts is not what check goes by
    saved = tmp_path / "probe.json"
    saved.write_text(json.dumps(document))
    checked = json.loads(run_cli("check", str(saved), "--format", "json", "--now", JUDGED).out)
    assert [m["pattern"] for m in checked["records"]["mta_sts"][0]["mx_matches"]] == ["mx1.contoso.test",
                                                                                       "mx2.other.test"]
    assert not [f for f in checked["findings"] if f["check_id"] == "HT-STS-001"]


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_every_format_shows_the_domain_and_hostile_record_text_inert(dns, trust, fmt: str) -> None:  # type: ignore[no-untyped-def]
    hostile = "v=TLSRPTv1; rua=mailto:a@b.test\x1b[2J<script>x</script>\u202e"
    run = run_cli("probe", f"--mx={DOMAIN}", "--nameserver", dns(zone(rpt=[hostile])), "--mta-sts-port", "9",
                  "--trust", trust, "--no-sweep", "--timeout", "3", "--format", fmt, "--now", JUDGED)
    assert "MTA-STS" in run.out and "contoso.test" in run.out and "refused" in run.out
    assert "\x1b" not in run.out and "\u202e" not in run.out  # shown escaped, never acting on the terminal
    assert fmt != "html" or "<script>" not in run.out


def test_the_policy_port_is_a_hidden_test_option_and_checked(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        run_cli("probe", "--help")
    shown = capsys.readouterr().out
    assert "--no-mta-sts" in shown and "--mta-sts-port" not in shown
    run = run_cli("probe", "--mx", DOMAIN, "--mta-sts-port", "0")
    assert run.code == 2 and run.err.startswith("hybridtls: error: --mta-sts-port must be a TCP port")


def test_the_runs_deadline_bounds_the_lookup(tmp_path: Path) -> None:
    with PolicyServer(silent, tls_context(tmp_path, PKI.leaf, PKI.intermediate)) as server:
        result = asyncio.run(look_up(DOMAIN, ["mx1.contoso.test"], Records(),
                                     FetchSettings(timeout=20, total=20, port=server.port), deadline=0.5))
    assert "deadline of 0.5 s passed" in result.sts_record.error and result.policy is None
    assert result.mx_hosts == ("mx1.contoso.test",)
