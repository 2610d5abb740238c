"""Every probe scenario against a real Postfix on loopback, one instance per scenario."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from cryptography.hazmat.primitives import serialization
from factory import NOW, Issued, issue, name, public_like_pki, rsa_key
from postfix import Postfix, Scenario, available

pytestmark = pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="needs root and postfix")
JUDGED = "2026-11-27T12:00"


def chain_pem(leaf: Issued, *others: Issued) -> bytes:
    key = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return key + leaf.pem + b"".join(o.pem for o in others)


PKI = public_like_pki(leaf_dns=("mx.contoso.test", "mail.contoso.test"))
ROOT_FILE_BYTES = PKI.root.pem


def _scenarios() -> list[Scenario]:
    inter = PKI.intermediate
    mx = ("mx.contoso.test",)

    def leaf(**options) -> Issued:  # type: ignore[no-untyped-def]
        return issue(name("mx.contoso.test", "Contoso Ltd", "US"), issuer=inter, dns=options.pop("dns", mx),
                     key=rsa_key(slot=3), ca_issuers=("http://crt.testtrust.example.com/issuing2026.crt",), **options)

    other_root = issue(name("Contoso Internal Root"), key=rsa_key(slot=11), ca=True)
    other_inter = issue(name("Contoso Internal Issuing"), issuer=other_root, key=rsa_key(slot=12), ca=True)
    internal_leaf = issue(name("mx.contoso.test"), issuer=other_inter, key=rsa_key(slot=3), dns=mx)
    self_signed = issue(name("EXCAS1"), key=rsa_key(slot=13), dns=("mx.contoso.test",))
    good = chain_pem(PKI.leaf, inter)
    return [
        Scenario("good", "127.0.0.1", 2601, good),
        Scenario("no-intermediate", "127.0.0.1", 2602, chain_pem(PKI.leaf)),
        Scenario("expired", "127.0.0.1", 2603, chain_pem(leaf(not_before=NOW - timedelta(days=400),
                                                                not_after=NOW - timedelta(days=5)), inter)),
        Scenario("not-yet-valid", "127.0.0.1", 2604, chain_pem(leaf(not_before=NOW + timedelta(days=5),
                                                                      not_after=NOW + timedelta(days=400)), inter)),
        Scenario("wrong-name", "127.0.0.1", 2605, chain_pem(leaf(dns=("autodiscover.fabrikam.test",)), inter)),
        Scenario("self-signed", "127.0.0.1", 2606, chain_pem(self_signed)),
        Scenario("unknown-root", "127.0.0.1", 2607, chain_pem(internal_leaf, other_inter, other_root)),
        Scenario("no-starttls", "127.0.0.1", 2608, None),
        Scenario("tls10-only", "127.0.0.1", 2609, good, protocols=">=TLSv1, <=TLSv1", legacy_tls=True),
        Scenario("tls13-only", "127.0.0.1", 2610, good, protocols=">=TLSv1.3"),
        Scenario("ipv6", "::1", 2611, good),
        Scenario("node-a", "127.0.0.2", 2620, good),
        Scenario("node-b", "127.0.0.3", 2620, chain_pem(self_signed)),
    ]


@pytest.fixture(scope="session")
def postfix():  # type: ignore[no-untyped-def]
    if not available():
        pytest.fail("postfix is required in CI: .ci/run installs Debian's postfix package")
    # pytest's own temporary folders are private to root; Postfix's daemons run as the postfix user
    root = Path(tempfile.mkdtemp(prefix="hybridtls-postfix-"))
    root.chmod(0o755)
    instances = {s.name: Postfix(root, s) for s in _scenarios()}
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        list(pool.map(lambda p: p.start(), instances.values()))
        list(pool.map(lambda p: p.wait_ready(), instances.values()))
    trust = root / "root.pem"
    trust.write_bytes(ROOT_FILE_BYTES)
    yield instances, trust
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        list(pool.map(lambda p: p.stop(), instances.values()))
    shutil.rmtree(root, ignore_errors=True)


def probe(postfix, target: str, *extra: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    _, trust = postfix
    run = run_cli("probe", target, "--trust", str(trust), "--now", JUDGED, "--format", "json", "--timeout", "5",
                  "--ehlo", "probe.hybridtls.test", *extra)
    assert "Traceback" not in run.err
    return run.code, json.loads(run.out)


def ids(document: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["check_id"] for f in document["findings"]}


def test_good_full_chain(postfix) -> None:  # type: ignore[no-untyped-def]
    code, document = probe(postfix, "127.0.0.1:2601", "--resolve", "mx.contoso.test=127.0.0.1")
    [result] = document["records"]["probes"]
    assert code == 0 and ids(document) == set()
    assert result["outcome"] == "ok" and result["tls_version"] == "TLSv1.3" and result["starttls_offered"]
    assert [c["subject"].split(",")[0] for c in result["chain"]] == ["CN=mx.contoso.test", "CN=Test TLS Issuing CA 2026"]
    assert result["versions_accepted"] == {"TLSv1": False, "TLSv1.1": False, "TLSv1.2": True, "TLSv1.3": True}
    steps = [(t["step"], t["direction"]) for t in result["transcript"]]
    assert ("banner", "<") in steps and ("ehlo", ">") in steps and ("starttls", "<") in steps and ("quit", ">") in steps
    assert any(t["text"] == "EHLO probe.hybridtls.test" for t in result["transcript"])
    assert document["records"]["chains"][0]["end"] == "trusted"


def test_by_name_with_pinned_address_checks_the_name(postfix) -> None:  # type: ignore[no-untyped-def]
    code, document = probe(postfix, "mx.contoso.test:2601", "--resolve", "mx.contoso.test=127.0.0.1")
    assert code == 0 and document["records"]["probes"][0]["label"] == "mx.contoso.test[127.0.0.1]:2601"
    code, document = probe(postfix, "mx.contoso.test:2601", "--resolve", "mx.contoso.test=127.0.0.1",
                           "--expect-name", "smtp.contoso.test")
    assert ids(document) == {"HT-WIRE-005"}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("127.0.0.1:2602", {"HT-CHAIN-001"}),
        ("127.0.0.1:2603", {"HT-CHAIN-003"}),
        ("127.0.0.1:2604", {"HT-CHAIN-003"}),
        ("127.0.0.1:2606", {"HT-CHAIN-002"}),
        ("127.0.0.1:2607", {"HT-CHAIN-002"}),
        ("127.0.0.1:2608", {"HT-WIRE-002"}),
        ("127.0.0.1:2609", {"HT-WIRE-004"}),
        ("127.0.0.1:2610", {"HT-WIRE-004"}),
        ("[::1]:2611", set()),
    ],
)
def test_scenarios(postfix, target: str, expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    _, document = probe(postfix, target, "--expect-name", "mx.contoso.test")
    assert ids(document) == expected, document["findings"]


def test_wrong_name(postfix) -> None:  # type: ignore[no-untyped-def]
    _, document = probe(postfix, "127.0.0.1:2605", "--expect-name", "mx.contoso.test")
    [finding] = document["findings"]
    assert finding["check_id"] == "HT-WIRE-005" and "SubjectMismatch Expected Subject: mx.contoso.test" in finding["message"]


def test_tls_versions(postfix) -> None:  # type: ignore[no-untyped-def]
    _, old = probe(postfix, "127.0.0.1:2609", "--expect-name", "mx.contoso.test")
    assert old["records"]["probes"][0]["tls_version"] == "TLSv1"
    assert old["records"]["probes"][0]["versions_accepted"] == {"TLSv1": True, "TLSv1.1": False, "TLSv1.2": False, "TLSv1.3": False}
    assert old["findings"][0]["severity"] == "error"
    _, new = probe(postfix, "127.0.0.1:2610", "--expect-name", "mx.contoso.test")
    assert new["records"]["probes"][0]["versions_accepted"]["TLSv1.2"] is False
    assert new["findings"][0]["severity"] == "info"


def test_two_nodes_of_one_name_name_the_odd_one(postfix) -> None:  # type: ignore[no-untyped-def]
    code, document = probe(postfix, "mx.contoso.test:2620", "--resolve", "mx.contoso.test=127.0.0.2,127.0.0.3")
    assert [p["address"] for p in document["records"]["probes"]] == ["127.0.0.2", "127.0.0.3"]
    nodes = [f for f in document["findings"] if f["check_id"] == "HT-WIRE-006"]
    assert len(nodes) == 1 and nodes[0]["subject"] == "mx.contoso.test:2620"
    message = nodes[0]["message"]
    assert message.index("mx.contoso.test[127.0.0.3]:2620 presents 'CN=EXCAS1'") < message.index("the other 1 node(s)")
    assert "self-signed" in message and "e.g. mx.contoso.test[127.0.0.2]:2620" in message
    assert "HT-CHAIN-002" in ids(document) and code == 1


def test_mx_lookup_against_a_loopback_dns_server(postfix) -> None:  # type: ignore[no-untyped-def]
    from dnslib import MX as MXRecord
    from dnslib import QTYPE, RR, A
    from dnslib.server import BaseResolver, DNSServer

    class Zone(BaseResolver):
        def resolve(self, request, handler):  # type: ignore[no-untyped-def]
            reply = request.reply()
            qname, qtype = str(request.q.qname), QTYPE[request.q.qtype]
            if qname == "contoso.test." and qtype == "MX":
                reply.add_answer(RR(qname, QTYPE.MX, rdata=MXRecord("mx.contoso.test.", 10), ttl=60))
            elif qname == "mx.contoso.test." and qtype == "A":
                for address in ("127.0.0.2", "127.0.0.3"):
                    reply.add_answer(RR(qname, QTYPE.A, rdata=A(address), ttl=60))
            return reply

    server = DNSServer(Zone(), port=0, address="127.0.0.1")
    server.start_thread()
    try:
        port = server.server.server_address[1]
        code, document = probe(postfix, "--mx=contoso.test", "--nameserver", f"127.0.0.1:{port}", "--no-sweep")
        labels = sorted(p["label"] for p in document["records"]["probes"])
        assert labels == ["mx.contoso.test[127.0.0.2]:25", "mx.contoso.test[127.0.0.3]:25"]
        assert {p["outcome"] for p in document["records"]["probes"]} == {"refused"}  # port 25: nothing listens there
        assert code == 3  # every probe failed to connect
    finally:
        server.stop()


def test_saved_probe_is_evidence_for_check(postfix, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, document = probe(postfix, "127.0.0.1:2608")
    saved = tmp_path / "probe.json"
    saved.write_text(json.dumps(document))
    run = run_cli("check", str(saved), "--format", "json", "--now", JUDGED)
    assert {f["check_id"] for f in json.loads(run.out)["findings"]} == {"HT-WIRE-002"}
    assert threading.active_count() >= 1


def test_trust_travels_with_a_saved_probe(postfix, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, document = probe(postfix, "127.0.0.1:2601", "--resolve", "mx.contoso.test=127.0.0.1")
    [anchor] = document["records"]["trust"]["anchors"]
    assert code == 0 and ids(document) == set() and anchor["subject"].startswith("CN=Test Root CA")
    saved = tmp_path / "probe.json"
    saved.write_text(json.dumps(document))

    run = run_cli("check", str(saved), "--format", "json", "--now", JUDGED)
    checked = json.loads(run.out)
    assert run.code == 0 and ids(checked) == set(), [(f["check_id"], f["message"]) for f in checked["findings"]]
    assert [c["end"] for c in checked["records"]["chains"]] == ["trusted"]
    [used] = checked["records"]["trust"]["anchors"]
    assert used["sha256"] == anchor["sha256"] and used["origin"].startswith(f"recorded in {saved}")
    assert any(anchor["sha256"] in n["message"] for n in checked["records"]["notices"])

    run = run_cli("check", str(saved), "--format", "json", "--now", JUDGED, "--ignore-recorded-trust")
    ignored = json.loads(run.out)
    assert run.code == 1 and {"HT-CHAIN-001", "HT-CHAIN-002"} & ids(ignored)
    assert ignored["records"]["trust"]["anchors"] == []
    assert any("not trusted (--ignore-recorded-trust)" in n["message"] for n in ignored["records"]["notices"])
