"""What changed between two rounds, as alerts: each names the address and gives the fix. A pure function.

The first round has nothing to change from: its alerts are the faults it finds (an expiry threshold already
crossed, an odd node, the certificate the connectors expect not served, every finding). After that an alert is a
change: the same fault in two rounds raises nothing (``changes(r, r)`` is empty), so a fault is said once, when it
appears, and again only when what it says changes. Where a specific alert tells of a finding (an address that no
longer answers is also HT-WIRE-001), the finding is not told a second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from hybridtls.checks.fixes import CONNECT_FIX, SAME_CERTIFICATE_FIX, set_tls_certificate_name_fix, tls_domain_fix
from hybridtls.model import Severity
from hybridtls.pki.tlsname import TlsCertificateName
from hybridtls.powershell import Script
from hybridtls.watch.model import Alert, AlertKind, FindingMark, Observation, Round, ServedCertificate, utc

THRESHOLDS = (30, 14, 7, 1, 0)  # days before NotAfter; 0: expired
MODERN = ("TLSv1.2", "TLSv1.3")
_KIND_ORDER = {kind: index for index, kind in enumerate(AlertKind)}


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSplit:
    """The addresses behind one name that do not serve the same leaf. ``majority`` is the SHA-256 most of them
    serve, or None when the most common answers tie (the name is split evenly: no address can be called odd)."""

    host: str
    port: int
    majority: str | None
    odd: tuple[Observation, ...]  # the addresses that serve another leaf than the majority
    groups: tuple[tuple[str, tuple[Observation, ...]], ...]  # each leaf's SHA-256 and the addresses serving it

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def odd_nodes(round_: Round) -> list[NodeSplit]:
    """Every name whose addresses serve different leaves in this round, in name order."""
    pools: dict[tuple[str, int], list[Observation]] = {}
    for seen in round_.observations:
        if seen.address and seen.host != seen.address and seen.leaf is not None:
            pools.setdefault((seen.host, seen.port), []).append(seen)
    splits = []
    for (host, port), members in sorted(pools.items()):
        counts = Counter(m.leaf.sha256 for m in members if m.leaf)
        if len(counts) < 2:
            continue
        top = max(counts.values())
        leaders = sorted(sha for sha, count in counts.items() if count == top)
        majority = leaders[0] if len(leaders) == 1 else None
        groups = tuple(sorted(((sha, tuple(sorted((m for m in members if m.leaf and m.leaf.sha256 == sha),
                                                    key=lambda m: m.label))) for sha in counts),
                              key=lambda group: (-len(group[1]), group[0])))
        odd = tuple(m for _, group in groups for m in group if majority and m.leaf and m.leaf.sha256 != majority)
        splits.append(NodeSplit(host=host, port=port, majority=majority, odd=odd, groups=groups))
    return splits


def changes(previous: Round | None, current: Round, *, now: datetime) -> list[Alert]:
    """The alerts ``current`` raises after ``previous`` (None: the first round), in a fixed order."""
    raise_ = _Raiser(current.number, now)
    before = {seen.label: seen for seen in previous.observations} if previous else {}
    for seen in current.observations:
        earlier = before.get(seen.label)
        _reachability(raise_, earlier, seen)
        _certificate(raise_, earlier, seen)
        _chain(raise_, earlier, seen)
        _tls(raise_, earlier, seen)
        _expiry(raise_, earlier, seen, previous.started_at if previous else None, current.started_at)
        _expected(raise_, earlier, seen)
    _nodes(raise_, previous, current)
    for seen in current.observations:
        earlier = before.get(seen.label)
        _findings(raise_, _address_fields(seen), earlier.findings if earlier else None, seen.findings,
                  judged=earlier is None or _got_as_far(earlier, seen))
    _round_findings(raise_, previous, current)
    return sorted(raise_.alerts, key=lambda a: (a.label, _KIND_ORDER[a.kind], a.finding_key or ""))


class _Raiser:
    """The alerts of one call, and the findings they already tell of (per address, and the round's own)."""

    def __init__(self, number: int, now: datetime) -> None:
        self.number = number
        self.now = now
        self.alerts: list[Alert] = []
        self.told: set[tuple[str, str]] = set()

    def __call__(self, kind: AlertKind, severity: Severity, where: tuple[str, str, str, int], summary: str, *,
                 before: Iterable[tuple[str, str]] = (), after: Iterable[tuple[str, str]] = (), fix: str = "",
                 finding: FindingMark | None = None) -> None:
        label, host, address, port = where
        if finding is not None:
            self.told.add((label, finding.key))
            self.told.add(("", finding.key))
        self.alerts.append(Alert(kind=kind, severity=severity, label=label, host=host, address=address, port=port,
                                 summary=summary, before=tuple(before), after=tuple(after), fix=fix,
                                 finding_key=finding.key if finding else None, round_number=self.number,
                                 raised_at=self.now))


def _address_fields(seen: Observation) -> tuple[str, str, str, int]:
    return seen.label, seen.host, seen.address, seen.port


def _mark(seen: Observation, *check_ids: str) -> FindingMark | None:
    return next((m for m in seen.findings if m.check_id in check_ids), None)


def _fix(mark: FindingMark | None, default: Callable[[], str]) -> str:
    return mark.remediation if mark is not None and mark.remediation else default()


def _facts(cert: ServedCertificate) -> tuple[tuple[str, str], ...]:
    return (("thumbprint", cert.thumbprint), ("sha256", cert.sha256), ("subject", cert.subject),
            ("issuer", cert.issuer), ("names", ", ".join(cert.names)), ("not_before", cert.not_before.isoformat()),
            ("not_after", cert.not_after.isoformat()))


def _show_certificate(cert: ServedCertificate, *comments: str) -> str:
    script = Script(*comments)
    return str(script.add(
        f"Get-ExchangeCertificate -Thumbprint {script.thumbprint(cert.thumbprint)} | Format-List Thumbprint, Subject, "
        "Issuer, NotBefore, NotAfter, Services, CertificateDomains",
        "Get-SendConnector | Format-List Identity, TlsCertificateName",
        "Get-ReceiveConnector | Format-List Identity, TlsCertificateName"))


def _reachability(raise_: _Raiser, earlier: Observation | None, seen: Observation) -> None:
    if earlier is None:
        return
    where = _address_fields(seen)
    if earlier.connected and not seen.connected:
        mark = _mark(seen, "HT-WIRE-001")
        raise_(AlertKind.UNREACHABLE, Severity.ERROR, where,
               f"{seen.label} no longer answers: {seen.outcome.replace('_', ' ')} ({seen.detail})",
               before=(("outcome", earlier.outcome),), after=(("outcome", seen.outcome), ("detail", seen.detail)),
               fix=_fix(mark, lambda: CONNECT_FIX), finding=mark)
    elif not earlier.connected and seen.connected:
        mark = _mark(earlier, "HT-WIRE-001")
        raise_(AlertKind.RECOVERED, Severity.INFO, where,
               f"{seen.label} answers again ({seen.outcome.replace('_', ' ')}) after {earlier.outcome.replace('_', ' ')}",
               before=(("outcome", earlier.outcome), ("detail", earlier.detail)), after=(("outcome", seen.outcome),),
               finding=mark)
    if earlier.starttls_offered is True and seen.starttls_offered is False:
        mark = _mark(seen, "HT-WIRE-002")
        raise_(AlertKind.STARTTLS_GONE, Severity.ERROR, where,
               f"{seen.label} no longer offers STARTTLS: Exchange Online defers hybrid mail to it (451 5.7.3)",
               before=(("starttls", "offered"),), after=(("starttls", "not offered"), ("detail", seen.detail)),
               fix=_fix(mark, lambda: "Get-ReceiveConnector -Server <ServerName> | Format-List Identity, Bindings, "
                                      "AuthMechanism, TlsCertificateName, Fqdn"), finding=mark)


def _certificate(raise_: _Raiser, earlier: Observation | None, seen: Observation) -> None:
    if earlier is None or earlier.leaf is None or seen.leaf is None or earlier.leaf.sha256 == seen.leaf.sha256:
        return
    raise_(AlertKind.CERTIFICATE_CHANGED, Severity.WARNING, _address_fields(seen),
           f"{seen.label} serves another certificate: thumbprint {seen.leaf.thumbprint} (issuer {seen.leaf.issuer}, "
           f"NotAfter {seen.leaf.not_after:%Y-%m-%d}) instead of {earlier.leaf.thumbprint}",
           before=_facts(earlier.leaf), after=_facts(seen.leaf),
           fix=_show_certificate(seen.leaf, "# If the change was not planned, see which certificate each server behind "
                                            "this address binds to SMTP", "# and what the connectors name:"))


def _intermediate_fix() -> str:
    return ("# On every server behind this address, put the issuing CA's certificate into Intermediate Certification "
            "Authorities:\n"
            "Import-Certificate -FilePath <IntermediateCertificate.cer> -CertStoreLocation Cert:\\LocalMachine\\CA\n"
            "Restart-Service MSExchangeFrontEndTransport")


def _chain(raise_: _Raiser, earlier: Observation | None, seen: Observation) -> None:
    if earlier is None:
        return
    where = _address_fields(seen)
    same_leaf = earlier.leaf is not None and seen.leaf is not None and earlier.leaf.sha256 == seen.leaf.sha256
    lost = [sha for sha in earlier.chain_sha256[1:] if sha not in seen.chain_sha256] if same_leaf else []
    if lost:
        mark = _mark(seen, "HT-CHAIN-001")
        raise_(AlertKind.INTERMEDIATE_DROPPED, Severity.WARNING if seen.chain_end == "trusted" else Severity.ERROR,
               where, f"{seen.label} no longer sends {len(lost)} certificate(s) of its chain "
                      f"({len(seen.chain_sha256)} sent instead of {len(earlier.chain_sha256)})",
               before=(("chain_sha256", " ".join(earlier.chain_sha256)),),
               after=(("chain_sha256", " ".join(seen.chain_sha256)), ("dropped", " ".join(lost))),
               fix=_fix(mark, _intermediate_fix), finding=mark)
    if not lost and earlier.chain_end == "trusted" and seen.chain_end not in (None, "trusted"):
        mark = _mark(seen, "HT-CHAIN-001", "HT-CHAIN-002", "HT-CHAIN-003")
        raise_(AlertKind.CHAIN_DEGRADED, Severity.ERROR, where,
               f"the chain {seen.label} serves is no longer trusted: {str(seen.chain_end).replace('_', ' ')}",
               before=(("chain_end", "trusted"),), after=(("chain_end", str(seen.chain_end)),),
               fix=_fix(mark, _intermediate_fix), finding=mark)
    if earlier.name_covered is not False and seen.name_covered is False and seen.leaf is not None:
        mark = _mark(seen, "HT-WIRE-005", "HT-CHAIN-007")
        names = seen.leaf.names
        raise_(AlertKind.NAME_NOT_COVERED, Severity.ERROR, where,
               f"the certificate {seen.label} serves no longer covers {seen.host} (its names: {', '.join(names)})",
               before=(("name_covered", str(earlier.name_covered)),), after=(("names", ", ".join(names)),),
               fix=_fix(mark, lambda: tls_domain_fix(names, "# Make the outbound connector expect a name the "
                                                            "certificate covers (Exchange Online PowerShell):")),
               finding=mark)


def _accepted(seen: Observation) -> frozenset[str] | None:
    if not seen.connected or not any(accepted is not None for _, accepted in seen.versions_accepted):
        return None
    return frozenset(version for version, accepted in seen.versions_accepted if accepted)


def _tls(raise_: _Raiser, earlier: Observation | None, seen: Observation) -> None:
    was, now = (_accepted(earlier) if earlier else None), _accepted(seen)
    if was is None or now is None or was == now:
        return
    severity = Severity.ERROR if not now & set(MODERN) else Severity.WARNING if was - now else Severity.INFO
    mark = _mark(seen, "HT-WIRE-004")
    lost, gained = sorted(was - now), sorted(now - was)
    words = "; ".join(part for part in (f"no longer accepts {', '.join(lost)}" if lost else "",
                                        f"now accepts {', '.join(gained)}" if gained else "") if part)
    raise_(AlertKind.TLS_VERSIONS_CHANGED, severity, _address_fields(seen), f"{seen.label} {words}",
           before=(("accepted", ", ".join(sorted(was)) or "none"),),
           after=(("accepted", ", ".join(sorted(now)) or "none"),),
           fix=_fix(mark, lambda: "# Compare Schannel's protocol settings on the server behind this address:\n"
                                  "Get-ChildItem 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\"
                                  "SCHANNEL\\Protocols' -Recurse | Get-ItemProperty"), finding=mark)


def threshold(cert: ServedCertificate, at: datetime) -> int | None:
    """The most urgent of 30, 14, 7, 1 days (0: expired) that ``cert`` is within at ``at``; None: further."""
    left = (utc(cert.not_after) - utc(at)).total_seconds() / 86400
    within = [days for days in THRESHOLDS if left <= days]
    return within[-1] if within else None


def _expiry(raise_: _Raiser, earlier: Observation | None, seen: Observation, then: datetime | None,
            at: datetime) -> None:
    if seen.leaf is None:
        return
    level = threshold(seen.leaf, at)
    same = earlier is not None and earlier.leaf is not None and earlier.leaf.sha256 == seen.leaf.sha256
    was = threshold(seen.leaf, then) if same and then is not None else None
    if level is None or (was is not None and was <= level):
        return
    leaf = seen.leaf
    words = "has expired" if level == 0 else f"expires within {level} day(s)"
    script = Script("# Renew the certificate on the server behind this address (Exchange Management Shell), then")
    script.comment("install it with its chain, bind it to SMTP and point the connectors' TlsCertificateName at it:")
    script.add(f"Get-ExchangeCertificate -Thumbprint {script.thumbprint(leaf.thumbprint)} | "
               "New-ExchangeCertificate -GenerateRequest -PrivateKeyExportable $true")
    raise_(AlertKind.EXPIRY_THRESHOLD, Severity.ERROR if level <= 7 else Severity.WARNING, _address_fields(seen),
           f"the certificate {seen.label} serves ({leaf.thumbprint}) {words}: NotAfter {leaf.not_after:%Y-%m-%d %H:%M}",
           before=(("threshold", "none" if was is None else str(was)),),
           after=(("threshold", str(level)), ("thumbprint", leaf.thumbprint), ("sha256", leaf.sha256),
                  ("not_after", leaf.not_after.isoformat())),
           fix=str(script))


def _expected(raise_: _Raiser, earlier: Observation | None, seen: Observation) -> None:
    if seen.expected_cert_matches is not False or seen.leaf is None:
        return
    if earlier is not None and earlier.expected_cert_matches is False and earlier.leaf is not None \
            and earlier.leaf.sha256 == seen.leaf.sha256:
        return
    leaf = seen.leaf
    mark = _mark(seen, "HT-NAME-001")

    raise_(AlertKind.EXPECTED_CERT_NOT_SERVED, Severity.ERROR, _address_fields(seen),
           f"{seen.label} serves {leaf.subject} (thumbprint {leaf.thumbprint}), not the certificate the connectors' "
           "TlsCertificateName names", after=(("thumbprint", leaf.thumbprint), ("issuer", leaf.issuer),
                                              ("subject", leaf.subject)),
           fix=_fix(mark, lambda: set_tls_certificate_name_fix(TlsCertificateName(leaf.issuer, leaf.subject))),
           finding=mark)


def _split_state(split: NodeSplit) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((sha, tuple(m.label for m in group)) for sha, group in split.groups)


def _nodes(raise_: _Raiser, previous: Round | None, current: Round) -> None:
    known_odd: set[tuple[str, str, str]] = set()
    known_splits: set[tuple[str, int, tuple[tuple[str, tuple[str, ...]], ...]]] = set()
    for split in odd_nodes(previous) if previous else []:
        if split.majority is None:
            known_splits.add((split.host, split.port, _split_state(split)))
        known_odd.update((m.label, m.leaf.sha256, split.majority) for m in split.odd if m.leaf and split.majority)
    for split in odd_nodes(current):
        mark = next((m for m in current.findings if m.check_id == "HT-WIRE-006"
                     and m.key.endswith(f"name={split.label.casefold()}")), None)
        fix = _fix(mark, lambda: SAME_CERTIFICATE_FIX)
        if split.majority is None:
            if (split.host, split.port, _split_state(split)) in known_splits:
                continue
            sides = "; ".join(f"{', '.join(m.label for m in group)} serve{'s' if len(group) == 1 else ''} "
                              f"{group[0].leaf.thumbprint if group[0].leaf else sha}" for sha, group in split.groups)
            raise_(AlertKind.ODD_NODE, Severity.ERROR, (split.label, split.host, "", split.port),
                   f"the addresses of {split.label} are split evenly, no certificate is served by most of them: {sides}",
                   after=tuple((group[0].leaf.thumbprint if group[0].leaf else sha, ", ".join(m.label for m in group))
                               for sha, group in split.groups), fix=fix, finding=mark)
            continue
        common = next(group for sha, group in split.groups if sha == split.majority)
        model = common[0].leaf
        assert model is not None
        for seen in split.odd:
            assert seen.leaf is not None
            if (seen.label, seen.leaf.sha256, split.majority) in known_odd:
                continue
            raise_(AlertKind.ODD_NODE, Severity.ERROR, _address_fields(seen),
                   f"{seen.label} serves {seen.leaf.thumbprint} while {len(common)} of the {sum(len(g) for _, g in split.groups)} "
                   f"addresses of {split.label} serve {model.thumbprint}: its share of the mail fails or differs",
                   before=_facts(model), after=_facts(seen.leaf), fix=fix, finding=mark)


def _got_as_far(earlier: Observation, seen: Observation) -> bool:
    """This round saw as much of the address as the last did: what the last found and this did not is cleared.
    An address that stopped answering, or no longer presents a certificate, has its findings left as they were."""
    return (seen.connected or not earlier.connected) and (seen.leaf is not None or earlier.leaf is None)


def _findings(raise_: _Raiser, where: tuple[str, str, str, int], before: tuple[FindingMark, ...] | None,
              now: tuple[FindingMark, ...], *, judged: bool = True) -> None:
    label = where[0]
    had = {m.key for m in before} if before is not None else set()
    has = {m.key for m in now}
    for mark in now:
        if mark.key not in had and (label, mark.key) not in raise_.told:
            raise_(AlertKind.FINDING_NEW, mark.severity, where, f"{label}: {mark.check_id}: {_unprefixed(label, mark)}",
                   after=(("check_id", mark.check_id), ("severity", mark.severity.value)), fix=mark.remediation,
                   finding=mark)
    for mark in before if before is not None and judged else ():
        if mark.key not in has and (label, mark.key) not in raise_.told:
            raise_(AlertKind.FINDING_CLEARED, Severity.INFO, where, f"{label}: {mark.check_id} no longer found: "
                                                                    f"{_unprefixed(label, mark)}",
                   before=(("check_id", mark.check_id), ("severity", mark.severity.value)), finding=mark)


def _unprefixed(label: str, mark: FindingMark) -> str:
    """The finding's message without the address it already begins with (the alert names it first)."""
    return mark.message.removeprefix(f"{label}: ")


def subject_of(key: str) -> tuple[str, str, int]:
    """What a round-wide finding is about, from its key: the name (``host:port``) or address, else the check."""
    parts = dict(part.partition("=")[::2] for part in key.split("|")[1:])
    text = parts.get("name") or parts.get("address") or parts.get("server") or parts.get("certificate") or ""
    host, _, port = text.rpartition(":")
    if host and port.isdigit():
        return text, host, int(port)
    return text or key.split("|", 1)[0], text, 0


def _round_findings(raise_: _Raiser, previous: Round | None, current: Round) -> None:
    told = {key for label, key in raise_.told}
    before = {m.key: m for m in previous.findings} if previous else {}
    after = {m.key: m for m in current.findings}
    for key in sorted(after.keys() - before.keys() - told):
        label, host, port = subject_of(key)
        _findings(raise_, (label, host, "", port), (), (after[key],))
    for key in sorted(before.keys() - after.keys() - told):
        label, host, port = subject_of(key)
        _findings(raise_, (label, host, "", port), (before[key],), ())
