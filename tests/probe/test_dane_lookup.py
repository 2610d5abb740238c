"""The TLSA lookup behind probe's DANE line, against a dnslib server on 127.0.0.1 (no Postfix): the AD bit of the MX
and TLSA answers, NXDOMAIN, SERVFAIL, names that are not looked up; and saved DANE observations read back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from factory import public_like_pki
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.evidence.saved_probes import read_saved_probes
from hybridtls.model import DaneResult, ProbeOutcome, ProbeResult, ProbeStep, TlsaLookup
from hybridtls.pki.dane import tlsa_for
from hybridtls.smtp.dane import observe_dane
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.targets import Target

PKI = public_like_pki(leaf_dns=("mx.contoso.test",))
CHAIN = tuple(read_certificate_file(i.der, n)[0] for i, n in ((PKI.leaf, "leaf.cer"), (PKI.intermediate, "ca.cer")))
RECORD = tlsa_for(CHAIN[0]).presentation


@pytest.fixture(scope="module")
def nameserver() -> Iterator[str]:
    from dnslib import MX, QTYPE, RCODE, RR, TLSA
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    class Zone(BaseResolver):
        def resolve(self, request, handler):  # type: ignore[no-untyped-def]
            reply = request.reply()
            qname, qtype = str(request.q.qname).rstrip(".").lower(), QTYPE[request.q.qtype]
            secure = not qname.startswith(("insecure", "_25._tcp.plain"))
            if qname.startswith("_25._tcp.broken"):
                reply.header.rcode = RCODE.SERVFAIL
                return reply
            if qtype == "MX" and qname.endswith("contoso.test"):
                reply.add_answer(RR(qname + ".", QTYPE.MX, rdata=MX("mx.contoso.test."), ttl=60))
            elif qtype == "TLSA" and qname in ("_25._tcp.mx.contoso.test", "_25._tcp.plain.contoso.test"):
                usage, selector, mtype, data = RECORD.split()
                reply.add_answer(RR(qname + ".", QTYPE.TLSA, ttl=300,
                                    rdata=TLSA(int(usage), int(selector), int(mtype), bytes.fromhex(data))))
            elif qtype == "TLSA" and qname == "_25._tcp.many.contoso.test":
                for number in range(70):  # a hostile zone: more records than any rotation needs
                    reply.add_answer(RR(qname + ".", QTYPE.TLSA, ttl=300, rdata=TLSA(3, 1, 0, bytes([number]))))
            elif qtype == "TLSA":
                reply.header.rcode = RCODE.NXDOMAIN
            reply.header.ad = 1 if secure else 0
            return reply

    server = DNSServer(Zone(), port=0, address="127.0.0.1", logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    try:
        yield f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()


def served(host: str, address: str = "127.0.0.2") -> ProbeResult:
    return ProbeResult(host=host, address=address, port=25, expected_name=host, outcome=ProbeOutcome.OK,
                       stage=ProbeStep.QUIT, chain=CHAIN)


def test_the_mx_answer_says_whether_it_was_validated(nameserver: str) -> None:
    resolution = Resolution(nameserver)
    secure, _ = asyncio.run(resolution.mx("contoso.test"))
    insecure, _ = asyncio.run(resolution.mx("insecure.contoso.test"))
    assert [(t.host, t.mx_secure) for t in secure] == [("mx.contoso.test", True)]
    assert [(t.host, t.mx_secure) for t in insecure] == [("mx.contoso.test", False)]


def test_lookups_end_as_a_sender_would_see_them(nameserver: str) -> None:
    resolution = Resolution(nameserver, {"pinned.contoso.test": ("127.0.0.9",)})
    probes = [served("mx.contoso.test"), served("plain.contoso.test"), served("broken.contoso.test"),
              served("none.contoso.test"), served("127.0.0.2"), served("pinned.contoso.test", "127.0.0.9")]
    targets = [Target(host="mx.contoso.test", port=25, mx_secure=False)]  # found by an unsigned MX answer
    seen = {p.host: p.dane for p in asyncio.run(observe_dane(probes, targets, resolution))}
    mx, plain, broken, none = (seen[h] for h in ("mx.contoso.test", "plain.contoso.test", "broken.contoso.test",
                                                 "none.contoso.test"))
    assert mx is not None and (mx.lookup, mx.secure, mx.mx_secure, mx.result) == (TlsaLookup.FOUND, True, False, None)
    assert [m.matched for m in mx.matches] == [True] and "MX lookup was not DNSSEC-validated" in mx.detail
    assert plain is not None and (plain.lookup, plain.secure, plain.result) == (TlsaLookup.FOUND, False, None)
    assert broken is not None and (broken.lookup, broken.result) == (TlsaLookup.SERVFAIL, DaneResult.DNSSEC_INVALID)
    assert none is not None and (none.lookup, none.result) == (TlsaLookup.NONE, None)
    literal, pinned = seen["127.0.0.2"], seen["pinned.contoso.test"]
    assert literal is not None and literal.lookup is TlsaLookup.NOT_LOOKED_UP and "address literal" in literal.detail
    assert pinned is not None and pinned.lookup is TlsaLookup.NONE  # pinned, but --nameserver given: looked up
    unpinned = asyncio.run(observe_dane([served("pinned.contoso.test", "127.0.0.9")], [],
                                        Resolution(None, {"pinned.contoso.test": ("127.0.0.9",)})))
    assert unpinned[0].dane is not None and unpinned[0].dane.lookup is TlsaLookup.NOT_LOOKED_UP
    assert "--nameserver" in unpinned[0].dane.detail


def test_a_flood_of_records_is_cut_and_said(nameserver: str) -> None:
    [probe] = asyncio.run(observe_dane([served("many.contoso.test")], [], Resolution(nameserver)))
    assert probe.dane is not None and len(probe.dane.matches) == 64
    assert "70 TLSA records; the first 64 were matched" in probe.dane.detail


def _saved(dane: Any) -> dict[str, Any]:
    import base64

    probe = {"host": "mx.contoso.test", "address": "127.0.0.2", "port": 25, "expected_name": "mx.contoso.test",
             "outcome": "ok", "stage": "quit", "chain": [{"der_base64": base64.b64encode(c.der).decode()} for c in CHAIN],
             "dane": dane}
    return {"schema_version": 4, "tool": {"name": "hybridtls"}, "command": "probe", "records": {"probes": [probe]}}


def test_a_saved_observation_is_matched_again_not_believed() -> None:
    record = dict(zip(("usage", "selector", "matching_type"), map(int, RECORD.split()[:3]), strict=True))
    lie = {"record": {**record, "data_hex": "00" * 32, "name": "_25._tcp.mx.contoso.test", "ttl": 300},
           "matched": True, "reason": "trust me"}
    dane = {"tlsa_name": "_25._tcp.mx.contoso.test", "lookup": "found", "resolver": "127.0.0.1", "secure": True,
            "mx_secure": None, "matches": [lie], "result": None, "detail": ""}
    [probe] = read_saved_probes(_saved(dane), "saved.json")
    assert probe.dane is not None and probe.dane.result is DaneResult.TLSA_INVALID
    assert [m.matched for m in probe.dane.matches] == [False]


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-300, 300) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                     max_leaves=12)
_DANE_KEYS = ("tlsa_name", "lookup", "resolver", "secure", "mx_secure", "matches", "result", "detail")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_JSON, st.fixed_dictionaries({k: _JSON for k in _DANE_KEYS}),
                 st.fixed_dictionaries({"lookup": st.sampled_from([t.value for t in TlsaLookup]),
                                        "matches": st.lists(st.fixed_dictionaries({"record": st.dictionaries(
                                            st.sampled_from(["usage", "selector", "matching_type", "data_hex", "name",
                                                             "ttl"]), _JSON)}), max_size=2)})))
def test_any_saved_dane_object_reads_or_names_what_is_wrong(dane: Any) -> None:
    try:
        [probe] = read_saved_probes(json.loads(json.dumps(_saved(dane))), "saved.json")
    except EvidenceError as exc:
        assert "saved.json" in str(exc) and "probe 1" in exc.message
    else:
        assert dane is None or probe.dane is not None


def test_a_probe_without_dane_reads_as_before() -> None:
    saved = _saved(None)
    del saved["records"]["probes"][0]["dane"]
    [probe] = read_saved_probes(saved, "saved.json")
    assert probe.dane is None and replace(probe, dane=None) == probe
