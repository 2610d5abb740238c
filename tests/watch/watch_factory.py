"""Real probe Reports for the watch tests: chains built with cryptography, judged by the pipeline's own functions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from functools import cache

from factory import NOW, Issued, issue, name, public_like_pki, rsa_key

from hybridtls.checks import CheckContext
from hybridtls.model import EvidenceSet, ProbeOutcome, ProbeResult, ProbeStep, Source
from hybridtls.pipeline import _report, judge_chains
from hybridtls.pki.facts import facts_from_der
from hybridtls.pki.trust import TrustStore, anchor_record
from hybridtls.report import Report
from hybridtls.watch.model import Round
from hybridtls.watch.observe import observe_round

HOST = "mail.contoso.com"
SWEEP = (("TLSv1", False), ("TLSv1.1", False), ("TLSv1.2", True), ("TLSv1.3", True))


@cache
def pki():  # type: ignore[no-untyped-def]
    return public_like_pki()


@cache
def renewed() -> Issued:
    """The certificate that replaces the leaf: same names, same CA, another key and later dates."""
    return issue(name(HOST, "Contoso Ltd", "US"), issuer=pki().intermediate, key=rsa_key(slot=4),
                 dns=(HOST, "autodiscover.contoso.com"), not_before=NOW - timedelta(days=1),
                 not_after=NOW + timedelta(days=400))


@cache
def self_signed() -> Issued:
    return issue(name(HOST), key=rsa_key(slot=5), dns=(HOST,))


def expiring(days: float) -> Issued:
    """A leaf of the public-like CA that expires ``days`` after NOW (negative: already expired)."""
    return issue(name(HOST, "Contoso Ltd", "US"), issuer=pki().intermediate, key=rsa_key(slot=6), dns=(HOST,),
                 not_before=NOW - timedelta(days=300), not_after=NOW + timedelta(days=days), serial=int(days * 1000) + 10**9)


def label(host: str, address: str, port: int = 25) -> str:
    return ProbeResult(host=host, address=address, port=port, expected_name=host, outcome=ProbeOutcome.OK,
                       stage=ProbeStep.QUIT).label


def probe(address: str, *chain: Issued, host: str = HOST, outcome: ProbeOutcome = ProbeOutcome.OK,
          versions: tuple[tuple[str, bool | None], ...] = SWEEP, starttls: bool | None = True,
          expected_name: str | None = None, detail: str = "") -> ProbeResult:
    """One address as the SMTP probe reports it; ``chain`` defaults to the leaf and its intermediate."""
    if not chain and outcome is ProbeOutcome.OK:
        chain = (pki().leaf, pki().intermediate)
    where = label(host, address)
    served = tuple(facts_from_der(c.der, source=Source(path=f"probe {where}"),
                                  label=f"{where}, certificate {i + 1} presented") for i, c in enumerate(chain))
    connected = outcome not in (ProbeOutcome.REFUSED, ProbeOutcome.TIMEOUT, ProbeOutcome.UNREACHABLE)
    return ProbeResult(host=host, address=address, port=25, expected_name=expected_name or host, outcome=outcome,
                       stage=ProbeStep.QUIT if outcome is ProbeOutcome.OK else ProbeStep.CONNECT,
                       detail=detail or outcome.value, starttls_offered=starttls if connected else None,
                       tls_version="TLSv1.3" if served else None, chain=served,
                       versions_accepted=versions if served else (), elapsed_ms=40, observed_at=NOW)


def probe_report(*probes: ProbeResult, expect_cert: tuple[str, ...] = (), now: datetime = NOW) -> Report:
    """What ``probe_and_judge_async`` returns for these results: chains judged by one store (the test root as
    the only anchor), then every probe check."""
    store = TrustStore([anchor_record(facts_from_der(pki().root.der, source=Source(path="root.pem"), label="root"),
                                      "--trust root.pem")], mozilla=False)
    evidence = EvidenceSet(files=tuple(p.label for p in probes), probes=tuple(probes))
    evidence = judge_chains(evidence, store)
    return _report("probe", evidence, CheckContext(now=now, expected_tls_names=expect_cert), fail_on=None, now=now)


def observed(*probes: ProbeResult, number: int = 1, at: datetime = NOW, expect_cert: tuple[str, ...] = ()) -> Round:
    return observe_round(probe_report(*probes, expect_cert=expect_cert, now=at), number=number, started_at=at,
                         finished_at=at + timedelta(seconds=30))


def count_connections(monkeypatch) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every address probe takes 50 ms and fails; ``most`` counts the most that were open at once."""
    held = {"now": 0, "most": 0}

    async def probe_address(host, address, port, expected, settings):  # type: ignore[no-untyped-def]
        held["now"] += 1
        held["most"] = max(held["most"], held["now"])
        await asyncio.sleep(0.05)
        held["now"] -= 1
        raise OSError("not really probed")

    monkeypatch.setattr("hybridtls.smtp.runner.probe_address", probe_address)
    return held
