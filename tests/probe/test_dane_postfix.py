"""DANE against real Postfix nodes on loopback (ports 2711-2720) and a dnslib DNS server on 127.0.0.1 that plays a
validating resolver (the AD flag on its answers), with a rotation rehearsal: plan the new certificate, publish the
TLSA record the plan says, swap the certificate node by node (postfix reload), remove the old record, and prove the
probe's DANE verdict stays matching throughout."""

from __future__ import annotations

import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from factory import NOW, Issued, issue, name, public_like_pki, rsa_key
from postfix import POSTFIX, Postfix, Scenario, available

pytestmark = pytest.mark.skipif(not available() and not os.environ.get("CI"), reason="needs root and postfix")
JUDGED = "2026-11-27T12:00"
NAMES = ("mx.contoso.test", "*.contoso.test")
PKI = public_like_pki(leaf_dns=NAMES, key=rsa_key(slot=21))  # key A: what the TLSA records name at first
OTHER = issue(name("mx.contoso.test", "Contoso Ltd", "US"), issuer=PKI.intermediate, key=rsa_key(slot=22), dns=NAMES)
NEW = issue(name("mx.contoso.test", "Contoso Ltd", "US"), issuer=PKI.intermediate, key=rsa_key(slot=23), dns=NAMES)
ROTATION_PORT = 2713
EXPIRED_PORT = 2714
# expired ten days before the judging date, issued by the same intermediate: DANE-TA must refuse it, DANE-EE not
EXPIRED = issue(name("mx.contoso.test", "Contoso Ltd", "US"), issuer=PKI.intermediate, key=rsa_key(slot=24), dns=NAMES,
                not_before=NOW - timedelta(days=190), not_after=NOW - timedelta(days=10))
ROTATION_NODES = ("127.0.0.6", "127.0.0.7")


def chain_pem(leaf: Issued) -> bytes:
    key = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return key + leaf.pem + PKI.intermediate.pem


def spki_311(leaf: Issued) -> str:
    import hashlib

    der = leaf.cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return "3 1 1 " + hashlib.sha256(der).hexdigest()


class Zone:
    """The zone the DNS server answers from; tests change it between probes."""

    def __init__(self) -> None:
        self.a: dict[str, list[str]] = {}
        self.tlsa: dict[str, list[str]] = {}
        self.insecure: set[str] = set()  # answered without the AD flag
        self.servfail: set[str] = set()

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        from dnslib import QTYPE, RCODE, RR, TLSA, A

        reply = request.reply()
        qname, qtype = str(request.q.qname).rstrip(".").lower(), QTYPE[request.q.qtype]
        if qname in self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        if qtype == "A":
            for address in self.a.get(qname, []):
                reply.add_answer(RR(qname + ".", QTYPE.A, rdata=A(address), ttl=60))
        if qtype == "TLSA":
            for text in self.tlsa.get(qname, []):
                usage, selector, mtype, data = text.split()
                reply.add_answer(RR(qname + ".", QTYPE.TLSA, ttl=300,
                                    rdata=TLSA(int(usage), int(selector), int(mtype), bytes.fromhex(data))))
        reply.header.ad = 0 if qname in self.insecure else 1  # reply() copies the query's flags: say it either way
        return reply


@pytest.fixture(scope="module")
def dns() -> Iterator[tuple[Zone, str]]:
    from dnslib.server import BaseResolver, DNSServer

    zone = Zone()
    resolver = type("ZoneResolver", (BaseResolver,), {"resolve": lambda self, request, handler: zone.resolve(request, handler)})()
    server = DNSServer(resolver, port=0, address="127.0.0.1")
    server.start_thread()
    try:
        yield zone, f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def postfix_dane() -> Iterator[tuple[dict[str, Postfix], Path]]:
    if not available():
        pytest.fail("postfix is required in CI: .ci/run installs Debian's postfix package")
    root = Path(tempfile.mkdtemp(prefix="hybridtls-dane-postfix-"))
    root.chmod(0o755)
    scenarios = [Scenario("dane-a", "127.0.0.1", 2711, chain_pem(PKI.leaf)),
                 Scenario("dane-other", "127.0.0.1", 2712, chain_pem(OTHER)),
                 Scenario("dane-expired", "127.0.0.1", EXPIRED_PORT, chain_pem(EXPIRED)),
                 *(Scenario(f"dane-rot-{i}", address, ROTATION_PORT, chain_pem(PKI.leaf))
                   for i, address in enumerate(ROTATION_NODES, 1))]
    instances = {s.name: Postfix(root, s) for s in scenarios}
    with ThreadPoolExecutor(max_workers=len(instances)) as pool:
        list(pool.map(lambda p: p.start(), instances.values()))
        list(pool.map(lambda p: p.wait_ready(), instances.values()))
    trust = root / "root.pem"
    trust.write_bytes(PKI.root.pem)
    try:
        yield instances, trust
    finally:
        with ThreadPoolExecutor(max_workers=len(instances)) as pool:
            list(pool.map(lambda p: p.stop(), instances.values()))
        shutil.rmtree(root, ignore_errors=True)


def probe(postfix_dane, dns, target: str, *extra: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    _, trust = postfix_dane
    _, nameserver = dns
    run = run_cli("probe", target, "--nameserver", nameserver, "--trust", str(trust), "--now", JUDGED,
                  "--format", "json", "--timeout", "5", "--no-sweep", "--ehlo", "probe.hybridtls.test", *extra)
    assert "Traceback" not in run.err, run.err
    return run.code, json.loads(run.out)


def dane_findings(document: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f["check_id"], f["subject"]) for f in document["findings"] if f["check_id"].startswith("HT-DANE")}


def verdicts(document: dict) -> dict[str, tuple[str | None, list[str]]]:  # type: ignore[type-arg]
    """Per address: the RFC 8460 result a DANE sender would log, and the records that matched."""
    return {p["address"]: (p["dane"]["result"], [f"{m['record']['usage']} {m['record']['selector']} "
                                                 f"{m['record']['matching_type']} {m['record']['data_hex']}"
                                                 for m in p["dane"]["matches"] if m["matched"]])
            for p in document["records"]["probes"]}


def test_a_matching_record_is_valid_and_said_so(postfix_dane, dns) -> None:  # type: ignore[no-untyped-def]
    zone, nameserver = dns
    zone.a["good.contoso.test"] = ["127.0.0.1"]
    zone.tlsa["_2711._tcp.good.contoso.test"] = [spki_311(PKI.leaf)]
    code, document = probe(postfix_dane, dns, "good.contoso.test:2711")
    assert verdicts(document) == {"127.0.0.1": (None, [spki_311(PKI.leaf)])}
    assert code == 0 and dane_findings(document) == set()
    [record] = document["records"]["probes"]
    assert record["dane"]["secure"] is True and record["dane"]["resolver"] == nameserver
    run = run_cli("probe", "good.contoso.test:2711", "--nameserver", nameserver, "--trust", str(postfix_dane[1]),
                  "--now", JUDGED, "--no-sweep", "--timeout", "5", "--format", "terminal")
    said = " ".join(run.out.split())  # the terminal wraps long lines
    assert f"DNSSEC secure, as reported by {nameserver} (AD bit); hybridtls does not validate signatures itself" in said


def test_a_node_serving_another_key_is_named_with_the_record_to_publish(postfix_dane, dns) -> None:  # type: ignore[no-untyped-def]
    zone, _ = dns
    zone.a["bad.contoso.test"] = ["127.0.0.1"]
    zone.tlsa["_2712._tcp.bad.contoso.test"] = [spki_311(PKI.leaf)]
    code, document = probe(postfix_dane, dns, "bad.contoso.test:2712")
    assert dane_findings(document) == {("HT-DANE-001", "bad.contoso.test[127.0.0.1]:2712")} and code == 1
    assert verdicts(document) == {"127.0.0.1": ("tlsa-invalid", [])}
    [finding] = [f for f in document["findings"] if f["check_id"] == "HT-DANE-001"]
    assert f"_2712._tcp.bad.contoso.test. 3600 IN TLSA {spki_311(OTHER)}" in finding["remediation"]


def test_dane_ta_matches_the_intermediate_postfix_serves(postfix_dane, dns) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    zone, _ = dns
    zone.a["ta.contoso.test"] = ["127.0.0.1"]
    record = "2 0 1 " + hashlib.sha256(PKI.intermediate.der).hexdigest()
    zone.tlsa["_2712._tcp.ta.contoso.test"] = [record]
    code, document = probe(postfix_dane, dns, "ta.contoso.test:2712")
    assert verdicts(document) == {"127.0.0.1": (None, [record])} and dane_findings(document) == set()


def test_dane_ta_refuses_an_expired_leaf_dane_ee_does_not(postfix_dane, dns) -> None:  # type: ignore[no-untyped-def]
    """RFC 7671 section 5.2.2 / RFC 7672 section 3.1.1: only DANE-EE ignores dates. An expired leaf under the
    intermediate a 2 0 1 record names is certificate-expired (RFC 8460); a 3 1 1 record of its key still matches."""
    import hashlib

    zone, _ = dns
    zone.a["expired.contoso.test"] = ["127.0.0.1"]
    ta = "2 0 1 " + hashlib.sha256(PKI.intermediate.der).hexdigest()
    zone.tlsa[f"_{EXPIRED_PORT}._tcp.expired.contoso.test"] = [ta]
    code, document = probe(postfix_dane, dns, f"expired.contoso.test:{EXPIRED_PORT}")
    assert verdicts(document) == {"127.0.0.1": ("certificate-expired", [])} and code == 1
    assert dane_findings(document) == {("HT-DANE-001", f"expired.contoso.test[127.0.0.1]:{EXPIRED_PORT}")}
    zone.tlsa[f"_{EXPIRED_PORT}._tcp.expired.contoso.test"] = [spki_311(EXPIRED)]
    _, document = probe(postfix_dane, dns, f"expired.contoso.test:{EXPIRED_PORT}")
    assert verdicts(document) == {"127.0.0.1": (None, [spki_311(EXPIRED)])}  # a DANE sender delivers
    # what is said instead: the only matching record pins a certificate on its way out (it is past NotAfter)
    assert dane_findings(document) == {("HT-DANE-003", f"expired.contoso.test[127.0.0.1]:{EXPIRED_PORT}")}


def test_tlsa_without_dnssec_and_a_failing_lookup(postfix_dane, dns) -> None:  # type: ignore[no-untyped-def]
    zone, _ = dns
    zone.a["plain.contoso.test"] = ["127.0.0.1"]
    zone.tlsa["_2711._tcp.plain.contoso.test"] = [spki_311(OTHER)]  # would not match: ignored all the same
    zone.insecure.add("_2711._tcp.plain.contoso.test")
    _, document = probe(postfix_dane, dns, "plain.contoso.test:2711")
    assert dane_findings(document) == {("HT-DANE-002", "_2711._tcp.plain.contoso.test")}
    assert verdicts(document) == {"127.0.0.1": (None, [])}

    zone.a["broken.contoso.test"] = ["127.0.0.1"]
    zone.servfail.add("_2711._tcp.broken.contoso.test")
    code, document = probe(postfix_dane, dns, "broken.contoso.test:2711")
    assert dane_findings(document) == {("HT-DANE-001", "broken.contoso.test[127.0.0.1]:2711")} and code == 1
    assert verdicts(document) == {"127.0.0.1": ("dnssec-invalid", [])}

    zone.a["none.contoso.test"] = ["127.0.0.1"]
    code, document = probe(postfix_dane, dns, "none.contoso.test:2711")
    [record] = document["records"]["probes"]
    assert record["dane"]["lookup"] == "none" and code == 0 and dane_findings(document) == set()
    assert {c["id"]: c["status"] for c in document["checks"]}["HT-DANE-001"] == "not_applicable"


def test_a_saved_probe_is_judged_again_by_check(postfix_dane, dns, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zone, _ = dns
    zone.a["saved.contoso.test"] = ["127.0.0.1"]
    zone.tlsa["_2712._tcp.saved.contoso.test"] = [spki_311(PKI.leaf)]
    _, document = probe(postfix_dane, dns, "saved.contoso.test:2712")
    saved = tmp_path / "probe.json"
    saved.write_text(json.dumps(document))
    run = run_cli("check", str(saved), "--format", "json", "--now", JUDGED)
    checked = json.loads(run.out)
    assert dane_findings(checked) == {("HT-DANE-001", "saved.contoso.test[127.0.0.1]:2712")}
    assert verdicts(checked) == verdicts(document)


def _serving(address: str, port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with smtplib.SMTP(address, port, timeout=5) as smtp:
        smtp.starttls(context=context)
        der = smtp.sock.getpeercert(binary_form=True)  # type: ignore[union-attr]
    return der or b""


def swap(node: Postfix, leaf: Issued) -> None:
    """Put a new certificate on a node and reload it, as an admin would; wait until the node serves it."""
    chain = node.dir / "chain.pem"
    chain.write_bytes(chain_pem(leaf))
    chain.chmod(0o600)
    subprocess.run([POSTFIX, "-c", str(node.dir), "reload"], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while _serving(node.scenario.address, node.scenario.port) != leaf.der:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{node.scenario.name} still serves its old certificate after postfix reload")
        time.sleep(0.5)


def test_rotation_rehearsal_keeps_dane_matching_throughout(postfix_dane, dns, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    instances, trust = postfix_dane
    zone, _ = dns
    host, owner = "mx.contoso.test", f"_{ROTATION_PORT}._tcp.mx.contoso.test"
    zone.a[host] = list(ROTATION_NODES)
    zone.tlsa[owner] = [spki_311(PKI.leaf)]
    target = f"{host}:{ROTATION_PORT}"
    old, new = spki_311(PKI.leaf), spki_311(NEW)

    # before: both nodes serve key A, matched by the record of key A
    _, before = probe(postfix_dane, dns, target)
    assert verdicts(before) == {a: (None, [old]) for a in ROTATION_NODES} and dane_findings(before) == set()
    saved = tmp_path / "before.json"
    saved.write_text(json.dumps(before))

    # plan the new certificate from the saved probe: it says which record to publish first, and which to drop last
    new_pem = tmp_path / "new.pem"
    new_pem.write_bytes(NEW.pem + PKI.intermediate.pem)
    run = run_cli("plan", "--new-cert", str(new_pem), "--trust", str(trust), str(saved), "--now", JUDGED, "--format", "json")
    plan = json.loads(run.out)
    publish = next(s for s in plan["steps"] if s["title"].startswith("Publish the new TLSA record"))
    remove = next(s for s in plan["steps"] if s["title"].startswith("Remove the old TLSA record"))
    assert plan["steps"].index(publish) < next(i for i, s in enumerate(plan["steps"]) if "bind SMTP" in s["title"])
    [added] = re.findall(rf"# add: +{re.escape(owner)}\. \d+ IN TLSA (\d \d \d [0-9a-f]+)", publish["commands"])
    [dropped] = re.findall(rf"# remove: {re.escape(owner)}\. \d+ IN TLSA (\d \d \d [0-9a-f]+)", remove["commands"])
    assert (added, dropped) == (new, old)  # the plan's records are the keys' own (computed here independently)

    # publish what the plan says, beside the old record
    zone.tlsa[owner] = [old, added]
    _, published = probe(postfix_dane, dns, target)
    assert verdicts(published) == {a: (None, [old]) for a in ROTATION_NODES} and dane_findings(published) == set()

    # swap node 1: one node on the new key, one on the old, both matched
    swap(instances["dane-rot-1"], NEW)
    _, halfway = probe(postfix_dane, dns, target)
    assert verdicts(halfway) == {ROTATION_NODES[0]: (None, [new]), ROTATION_NODES[1]: (None, [old])}
    assert dane_findings(halfway) == set()

    # swap node 2, then remove the old record as the plan's last step says
    swap(instances["dane-rot-2"], NEW)
    _, swapped = probe(postfix_dane, dns, target)
    assert verdicts(swapped) == {a: (None, [new]) for a in ROTATION_NODES} and dane_findings(swapped) == set()
    zone.tlsa[owner] = [r for r in zone.tlsa[owner] if r != dropped]
    code, after = probe(postfix_dane, dns, target)
    assert verdicts(after) == {a: (None, [new]) for a in ROTATION_NODES} and dane_findings(after) == set()
    assert code == 0

    # the control: had the certificate been swapped without publishing, DANE would have refused it
    zone.tlsa[owner] = [old]
    _, skipped = probe(postfix_dane, dns, target)
    assert verdicts(skipped) == {a: ("tlsa-invalid", []) for a in ROTATION_NODES}
    assert dane_findings(skipped) == {("HT-DANE-001", f"{host}[{a}]:{ROTATION_PORT}") for a in ROTATION_NODES}
    assert x509.load_der_x509_certificate(NEW.der).public_key() != PKI.leaf.cert.public_key()
