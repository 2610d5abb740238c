"""What to watch: TARGET arguments, a targets file, and the hybrid endpoints a folder of evidence names.

``--from EVIDENCE`` reads the evidence ``check`` reads and derives, each with the file and line it came from:

- the hybrid send connector's FQDN (the name on-premises sends as) and its smart hosts;
- each receive connector that accepts Exchange Online's mail (``AcceptCloudServicesMail``): its FQDN;
- the Exchange Online outbound connector's smart hosts (where Exchange Online delivers), each to cover the
  connector's TlsDomain, and the inbound connector's TlsSenderCertificateName (the name on-premises must present);
- the hybrid configuration's OnPremisesSmartHost;
- the TlsCertificateName the on-premises certificate must match (the connector's own, else the hybrid
  configuration's, else the hybrid receive connectors').

Exchange Online's own hosts (``*.mail.protection.outlook.com``, ``*.mx.microsoft``) are watched without an expected TlsCertificateName:
that value names the on-premises certificate.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hybridtls.errors import NothingUsable, UsageError
from hybridtls.evidence.files import DEFAULT_MAX_FILE_BYTES
from hybridtls.model import ConnectorDirection, EvidenceSet
from hybridtls.pipeline import read_targets
from hybridtls.pki.hostnames import exchange_online_host
from hybridtls.smtp.targets import Target, parse_target

if TYPE_CHECKING:
    from hybridtls.evidence.certificates import PasswordSource
    from hybridtls.model.source import Cited

@dataclass(frozen=True, slots=True, kw_only=True)
class WatchTarget:
    """One name (or address) to probe each round, what its certificate must match, and where it came from."""

    target: Target  # target.source: "argument", FILE:LINE of a targets file, or the evidence line and property
    expect_cert: tuple[str, ...] = ()  # TlsCertificateName values its certificate must match

    @property
    def online(self) -> bool:
        return exchange_online_host(self.target.host)


@dataclass(frozen=True, slots=True, kw_only=True)
class Targets:
    """Everything to watch, and what a person should know about how it was found."""

    targets: tuple[WatchTarget, ...]
    notices: tuple[str, ...] = ()


def gather(texts: Sequence[str], *, targets_file: str | None = None, evidence: Sequence[str] = (),
           expect_cert: Sequence[str] = (), max_file_size: int = DEFAULT_MAX_FILE_BYTES,
           passwords: PasswordSource | None = None, allow_none: bool = False) -> Targets:
    """Targets from arguments, ``--targets-file`` and ``--from``, each (host, port) once (the first origin kept).
    ``expect_cert`` (``--expect-cert``) applies to the targets given by hand; ``allow_none`` when --mx gives more."""
    given = [WatchTarget(target=t, expect_cert=tuple(expect_cert)) for t in read_targets(texts, targets_file)]
    notices: list[str] = []
    if evidence:
        derived, said = from_evidence(evidence, max_file_size=max_file_size, passwords=passwords)
        given += derived
        notices += said
    if not given and not allow_none:
        raise UsageError("nothing to watch", hint="give host[:port] targets, --targets-file FILE or --from EVIDENCE")
    return Targets(targets=tuple(merged(given)), notices=tuple(notices))


def merged(targets: Sequence[WatchTarget]) -> list[WatchTarget]:
    """Each (host, port) once: the first origin and expected name kept, the expected TlsCertificateNames joined."""
    kept: dict[tuple[str, int], WatchTarget] = {}
    for item in targets:
        key = (item.target.host, item.target.port)
        first = kept.get(key)
        if first is None:
            kept[key] = item
            continue
        names = first.expect_cert + tuple(n for n in item.expect_cert if n not in first.expect_cert)
        expected = first.target.expected_name or item.target.expected_name
        kept[key] = replace(first, expect_cert=names, target=replace(first.target, expected_name=expected))
    return list(kept.values())


def from_evidence(paths: Sequence[str], *, max_file_size: int = DEFAULT_MAX_FILE_BYTES,
                  passwords: PasswordSource | None = None) -> tuple[list[WatchTarget], list[str]]:
    """The hybrid endpoints the evidence names, and notices for the connectors that named none. A NothingUsable
    when nothing was read, a UsageError when nothing to watch was found (saying what was read)."""
    from hybridtls.evidence.loader import load_evidence

    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"--from {path}: no such file or folder",
                             hint="--from takes every word after it: put it after the targets, or end its list with "
                                  "another option")
    evidence = load_evidence(list(paths), max_file_size=max_file_size, passwords=passwords)
    where = ", ".join(paths)
    if not evidence.usable:
        raise NothingUsable(f"--from {where}: nothing usable was read",
                            hint="give saved Get-SendConnector, Get-ReceiveConnector, Get-OutboundConnector and "
                                 "Get-HybridConfiguration output (Format-List)",
                            problems=tuple((f"{p.source}: {p.message}", p.hint) for p in evidence.problems))
    notices: list[str] = []
    found = list(_derive(evidence, notices))
    if not found:
        raise UsageError(
            f"--from {where}: no hybrid endpoint to watch: read {len(evidence.send_connectors)} send, "
            f"{len(evidence.receive_connectors)} receive and {len(evidence.online_connectors)} Exchange Online "
            f"connectors and {len(evidence.hybrid_configurations)} hybrid configurations, none naming a host"
            + (f" ({'; '.join(notices)})" if notices else ""),
            hint="save Get-SendConnector | fl, Get-ReceiveConnector | fl and Get-OutboundConnector | fl, "
                 "or give the hosts as TARGET arguments")
    return found, notices


def _derive(evidence: EvidenceSet, notices: list[str]) -> Iterator[WatchTarget]:
    on_premises = _expected_tls_names(evidence)
    for send in evidence.send_connectors:
        if not send.is_hybrid or send.enabled is False:
            continue
        expect = (send.tls_certificate_name,) if send.tls_certificate_name else on_premises
        named = list(_hosts(send, "fqdn", (send.fqdn,) if send.fqdn else (), f"send connector '{send.name}' Fqdn",
                            notices, expect=expect))
        named += _hosts(send, "smarthosts", send.smart_hosts, f"send connector '{send.name}' SmartHosts", notices)
        if not named:
            notices.append(f"{send.source}: the hybrid send connector '{send.name}' names no Fqdn or smart host")
        yield from named
    for receive in evidence.receive_connectors:
        if not receive.accepts_cloud_mail or receive.enabled is False:
            continue
        expect = (receive.tls_certificate_name,) if receive.tls_certificate_name else on_premises
        named = list(_hosts(receive, "fqdn", (receive.fqdn,) if receive.fqdn else (),
                            f"receive connector '{receive.identity}' Fqdn", notices, expect=expect))
        if not named:
            notices.append(f"{receive.source}: the receive connector '{receive.identity}' accepts Exchange Online's "
                           "mail but names no Fqdn")
        yield from named
    for online in evidence.online_connectors:
        if not online.is_hybrid or online.enabled is False:
            continue
        if online.direction is ConnectorDirection.OUTBOUND:
            named = list(_hosts(online, "smarthosts", online.smart_hosts,
                                f"outbound connector '{online.name}' SmartHosts", notices,
                                expect=on_premises, name=online.tls_domain))
        else:
            sender = online.tls_sender_certificate_name
            named = list(_hosts(online, "tlssendercertificatename", (sender,) if sender else (),
                                f"inbound connector '{online.name}' TlsSenderCertificateName", notices,
                                expect=on_premises, name=sender))
        if not named:
            what = "SmartHosts" if online.direction is ConnectorDirection.OUTBOUND else "TlsSenderCertificateName"
            notices.append(f"{online.source}: the hybrid {online.direction.value} connector '{online.name}' "
                           f"names no host in {what}")
        yield from named
    for hybrid in evidence.hybrid_configurations:
        smart = hybrid.on_premises_smart_host
        yield from _hosts(hybrid, "onpremisessmarthost", (smart,) if smart else (),
                          "hybrid configuration OnPremisesSmartHost", notices, expect=on_premises)


def _expected_tls_names(evidence: EvidenceSet) -> tuple[str, ...]:
    """The TlsCertificateName on-premises must present: the hybrid configuration's, else the hybrid receive
    connectors' (each distinct value once)."""
    chosen = [h.tls_certificate_name for h in evidence.hybrid_configurations if h.tls_certificate_name]
    if not chosen:
        chosen = [r.tls_certificate_name for r in evidence.receive_connectors
                  if r.accepts_cloud_mail and r.tls_certificate_name]
    return tuple(dict.fromkeys(chosen))


def _hosts(record: Cited, prop: str, values: Sequence[str], what: str, notices: list[str], *,
           expect: Sequence[str] = (), name: str | None = None) -> Iterator[WatchTarget]:
    where = record.cite(prop)
    for value in values:
        text = value.strip()
        if text.startswith("*."):  # a certificate-style wildcard TlsDomain names no host to connect to
            notices.append(f"{where}: {what} '{text}' is a wildcard, not a host; not watched")
            continue
        try:
            target = parse_target(text, source=f"{where} ({what})")
        except UsageError as exc:
            notices.append(f"{where}: {what}: {exc.message}; not watched")
            continue
        online = exchange_online_host(target.host)
        expected = name if name and not name.startswith("*.") else None
        yield WatchTarget(target=replace(target, expected_name=expected), expect_cert=() if online else tuple(expect))
