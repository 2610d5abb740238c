"""``/metrics`` for Prometheus: the latest round, per address, under blackbox_exporter's names and hybridtls' own.

blackbox_exporter's names keep their meaning (docs/watch-metrics.md), so dashboards and alert rules written for
it work unchanged: ``probe_success``, ``probe_duration_seconds``, ``probe_ssl_earliest_cert_expiry``,
``probe_ssl_last_chain_expiry_timestamp_seconds``, ``probe_ssl_last_chain_info`` (labels rendered as Go renders
them) and ``probe_tls_version_info``. Where blackbox_exporter's certificate metrics vanish (the handshake refused
an expired or untrusted chain), ours stay: what was served is what a person needs then. ``hybridtls_*`` add what
it has no notion of: NotBefore, the chain as Exchange Online would judge it, the names Exchange expects, each TLS
version accepted, the findings, when the certificate last changed and the round itself.

Every series carries ``instance`` (the address as the watch labels it, host[address]:port), ``address`` and
``host``; scrape with ``honor_labels: true`` so that ``instance`` is the address, not the watch. Label values
come from servers and are escaped by prometheus-client's exposition writer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from hybridtls.watch.model import FindingMark, Observation, Round, ServedCertificate, epoch, flag, utc

ADDRESS_LABELS = ("instance", "address", "host")
CHAIN_INFO_LABELS = ("fingerprint_sha256", "subject", "issuer", "subjectalternative", "serialnumber")


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """The labels of ``probe_ssl_last_chain_info``, written as blackbox_exporter writes them."""

    fingerprint_sha256: str  # lower-case hex of the leaf's DER
    subject: str  # Go's pkix.Name.String(): "CN=mail.contoso.com,O=Contoso Ltd,C=US"
    issuer: str
    subjectalternative: str  # the SAN's DNS names joined by ","
    serialnumber: str  # lower-case hex of the serial's bytes, no leading zero octets

    def values(self) -> list[str]:
        return [self.fingerprint_sha256, self.subject, self.issuer, self.subjectalternative, self.serialnumber]


def chain_info(leaf: ServedCertificate, der: bytes = b"") -> ChainInfo:
    """The leaf's labels as blackbox_exporter renders them. From its DER when the watch kept it; else from the
    names and serial the watch recorded (subject and issuer then in Windows' form, the one Exchange shows)."""
    if der:
        rendered = _from_der(der)
        if rendered is not None:
            return rendered
    return ChainInfo(leaf.sha256.lower(), leaf.subject, leaf.issuer, ",".join(leaf.names),
                     _go_serial(leaf.serial_number))


@lru_cache(maxsize=4096)
def _from_der(der: bytes) -> ChainInfo | None:
    import hashlib

    from hybridtls.model import Source
    from hybridtls.pki.der import DerError
    from hybridtls.pki.facts import facts_from_der
    from hybridtls.pki.names import render_name_go

    try:
        facts = facts_from_der(der, source=Source(path="served"), label="leaf")
        subject, issuer = render_name_go(facts.subject_der), render_name_go(facts.issuer_der)
    except (DerError, ValueError):
        return None
    return ChainInfo(hashlib.sha256(der).hexdigest(), subject, issuer, ",".join(facts.dns_names),
                     _go_serial(facts.serial_number))


def _go_serial(serial: str) -> str:
    """Go's ``fmt.Sprintf("%x", serial.Bytes())``: lower case, whole octets, leading zero octets dropped."""
    text = "".join(serial.split()).replace(":", "").lower()
    text = text if len(text) % 2 == 0 else "0" + text
    while text.startswith("00"):
        text = text[2:]
    return text


def tls_version_label(version: str) -> str:
    """``TLSv1.2`` (as Python and OpenSSL name it) -> ``TLS 1.2`` (as blackbox_exporter labels it)."""
    known = {"TLSv1": "TLS 1.0", "TLSv1.0": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}
    return known.get(version, "unknown")


class RoundCollector(Collector):
    """A prometheus-client collector over the latest round: each scrape renders what ``update`` last gave."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._round: Round | None = None
        self._last_changed: Mapping[str, datetime] = {}

    def update(self, round_: Round, last_changed: Mapping[str, datetime]) -> None:
        """The round to serve from now on, and when the served certificate last changed per address label."""
        with self._lock:
            self._round, self._last_changed = round_, dict(last_changed)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            round_, last_changed = self._round, self._last_changed
        if round_ is None:
            return iter(())
        return iter(_families(round_, last_changed))


def _families(round_: Round, last_changed: Mapping[str, datetime]) -> list[GaugeMetricFamily]:
    def gauge(name: str, documentation: str, *extra: str) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, documentation, labels=[*ADDRESS_LABELS, *extra])

    success = gauge("probe_success", "Displays whether or not the probe was a success (STARTTLS and the TLS "
                                      "handshake completed; trust is hybridtls_chain_trusted)")
    duration = gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds")
    earliest = gauge("probe_ssl_earliest_cert_expiry", "Returns earliest SSL cert expiry date (of the chain as "
                                                         "served; kept when expired or untrusted)")
    last_chain = gauge("probe_ssl_last_chain_expiry_timestamp_seconds",
                       "Returns last SSL chain expiry in timestamp seconds (the chain as served)")
    info = gauge("probe_ssl_last_chain_info", "Contains SSL leaf certificate information", *CHAIN_INFO_LABELS)
    version = gauge("probe_tls_version_info", "Returns the TLS version used", "version")
    not_before = gauge("hybridtls_cert_not_before_timestamp_seconds", "NotBefore of the served leaf certificate")
    trusted = gauge("hybridtls_chain_trusted",
                    "1 when the chain as served builds to a trusted root and is within its validity "
                    "dates, as Exchange Online would judge it, else 0")
    covered = gauge("hybridtls_name_covered", "1 when the leaf covers the name Exchange Online expects, else 0")
    expected = gauge("hybridtls_expected_cert_match",
                     "1 when the leaf matches the TlsCertificateName the connectors expect, else 0")
    accepted = gauge("hybridtls_tls_version_accepted", "1 when the address accepted this TLS version, 0 when it "
                                                        "refused it; absent when not tested", "version")
    findings = gauge("hybridtls_findings", "Findings of the latest round by severity and check id",
                     "severity", "check_id")
    changed = gauge("hybridtls_cert_last_change_timestamp_seconds",
                    "When the watch first saw the certificate the address serves now")
    shown: set[str] = set()
    for seen in round_.observations:
        if seen.label in shown:  # one address watched twice (two groups of expected names): one set of series,
            continue             # as Prometheus refuses a scrape with a series twice
        shown.add(seen.label)
        labels = [seen.label, seen.address, seen.host]
        success.add_metric(labels, 1.0 if seen.outcome == "ok" else 0.0)
        duration.add_metric(labels, seen.elapsed_ms / 1000)
        if seen.tls_version:
            version.add_metric([*labels, tls_version_label(seen.tls_version)], 1.0)
        for name, accepted_flag in seen.versions_accepted:
            if accepted_flag is not None:
                accepted.add_metric([*labels, tls_version_label(name)], float(accepted_flag))
        for metric, value in ((trusted, _chain_trusted(seen)), (covered, flag(seen.name_covered)),
                              (expected, flag(seen.expected_cert_matches))):
            if value is not None:
                metric.add_metric(labels, value)
        _add_counts(findings, labels, seen.findings)
        if seen.leaf is None:
            continue
        expiry = seen.chain_expiry or seen.leaf.not_after
        earliest.add_metric(labels, epoch(expiry))
        last_chain.add_metric(labels, epoch(expiry))
        info.add_metric([*labels, *chain_info(seen.leaf, seen.chain_der[0] if seen.chain_der else b"").values()], 1.0)
        not_before.add_metric(labels, epoch(seen.leaf.not_before))
        if seen.label in last_changed:
            changed.add_metric(labels, epoch(last_changed[seen.label]))
    _add_counts(findings, ["", "", ""], round_.findings)
    number = GaugeMetricFamily("hybridtls_round_number", "The number of the latest round (counts from 1, never "
                                                         "reused across restarts)", value=round_.number)
    took = GaugeMetricFamily("hybridtls_round_duration_seconds", "How long the latest round took",
                             value=round_.duration_seconds)
    finished = GaugeMetricFamily("hybridtls_round_finished_timestamp_seconds", "When the latest round finished",
                                 value=epoch(round_.finished_at))
    complete = GaugeMetricFamily("hybridtls_round_complete", "1 when the latest round probed every address",
                                 value=float(round_.complete))
    return [success, duration, earliest, last_chain, info, version, not_before, trusted, covered, expected,
            accepted, findings, changed, number, took, finished, complete]


def _chain_trusted(seen: Observation) -> float | None:
    """As Exchange Online judges it: the chain builds to a trusted root and every certificate in it was valid when
    observed (an expired leaf or intermediate fails the handshake as surely as an unknown root)."""
    if seen.chain_end is None:
        return None
    at = utc(seen.observed_at)
    in_time = (seen.chain_expiry is None or utc(seen.chain_expiry) > at) and \
        (seen.leaf is None or utc(seen.leaf.not_before) <= at)
    return float(seen.chain_end == "trusted" and in_time)


def _add_counts(family: GaugeMetricFamily, labels: list[str], marks: tuple[FindingMark, ...]) -> None:
    counts: dict[tuple[str, str], int] = {}
    for mark in marks:
        key = (mark.severity.value, mark.check_id)
        counts[key] = counts.get(key, 0) + 1
    for (severity, check_id), count in sorted(counts.items()):
        family.add_metric([*labels, severity, check_id], float(count))


class MetricsServer:
    """A running ``/metrics`` endpoint: ``update`` it after each round, ``close`` it when the watch ends."""

    def __init__(self, host: str, port: int) -> None:
        from prometheus_client import start_http_server

        self.collector = RoundCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        self.host = host
        self.port = int(self._server.server_address[1])

    def update(self, round_: Round, last_changed: Mapping[str, datetime]) -> None:
        self.collector.update(round_, last_changed)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_metrics_server(host: str, port: int) -> MetricsServer:
    """Serve ``/metrics`` on host:port (port 0: any free port, read back from ``.port``). Raises OSError when the
    address cannot be bound; the caller says so in one line."""
    return MetricsServer(host, port)


def exposition(round_: Round, last_changed: Mapping[str, datetime]) -> str:
    """The text a scrape would return for this round (for tests, ``--once`` runs and the docs)."""
    from prometheus_client import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    collector = RoundCollector()
    collector.update(round_, last_changed)
    registry.register(collector)
    return generate_latest(registry).decode("utf-8")
