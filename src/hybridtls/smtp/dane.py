"""DANE in the probe: the TLSA records of each probed host and port, matched against each address's served chain.

Facts, never judgements: what a DANE sender would log is recorded (RFC 8460 result types); checks/dane.py judges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from hybridtls.model import ProbeResult, Source, TlsaLookup, TlsaRecord
from hybridtls.pki.dane import TlsaSyntaxError, observe, parse_tlsa, tlsa_name
from hybridtls.pki.hostnames import is_address
from hybridtls.smtp.resolve import Resolution
from hybridtls.smtp.targets import Target

_Lookup = tuple[TlsaLookup, bool | None, tuple[TlsaRecord, ...], str]
MAX_TLSA_RECORDS = 64  # per name; a rotation needs two or three, a hostile zone could send a thousand to match


async def observe_dane(results: Sequence[ProbeResult], targets: Sequence[Target],
                       resolution: Resolution) -> list[ProbeResult]:
    """Each probe with its DANE observation: one TLSA lookup per host and port, matched per address."""
    mx_secure = {(t.host, t.port): t.mx_secure for t in targets if t.mx_secure is not None}
    wanted = sorted({(p.host, p.port) for p in results if p.address})
    found = await asyncio.gather(*(_lookup(resolution, host, port) for host, port in wanted))
    lookups = dict(zip(wanted, found, strict=True))
    observed = []
    for probe in results:
        lookup = lookups.get((probe.host, probe.port))
        if lookup is None:
            observed.append(probe)
            continue
        status, secure, records, error = lookup
        observed.append(replace(probe, dane=observe(probe, lookup=status, secure=secure, records=records, error=error,
                                                    mx_secure=mx_secure.get((probe.host, probe.port)),
                                                    resolver=resolution.described)))
    return observed


async def _lookup(resolution: Resolution, host: str, port: int) -> _Lookup:
    if is_address(host):
        return TlsaLookup.NOT_LOOKED_UP, None, (), "an address literal has no TLSA name: probe the host name"
    if host in resolution.pinned and not resolution.nameserver:
        return (TlsaLookup.NOT_LOOKED_UP, None, (),
                f"{host} was pinned with --resolve: give --nameserver to look up its TLSA records too")
    name = tlsa_name(host, port)
    status, secure, texts, error = await resolution.tlsa(name)
    records: list[TlsaRecord] = []
    if len(texts) > MAX_TLSA_RECORDS:
        error = f"{len(texts)} TLSA records; the first {MAX_TLSA_RECORDS} were matched"
    for number, (text, ttl) in enumerate(texts[:MAX_TLSA_RECORDS], 1):
        try:
            records.append(parse_tlsa(text, source=Source(path=f"TLSA {name}", line=number), name=name, ttl=ttl))
        except TlsaSyntaxError as exc:
            error = f"{error}; record {number} unreadable: {exc}".lstrip("; ")
    return status, secure, tuple(records), error
