"""A probe of a real STARTTLS server on loopback, observed as a watch round and served on /metrics: the labels
blackbox_exporter would give the same certificate, and the hybridtls_* verdicts of the same run."""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from factory import issue, public_like_pki
from prometheus_client.parser import text_string_to_metric_families
from test_hostile_servers import LoopbackServer, tls_after_starttls

from hybridtls.pipeline import ProbeOptions, TrustOptions, probe_and_judge_async
from hybridtls.watch.metrics import start_metrics_server
from hybridtls.watch.observe import observe_round

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def test_a_probed_round_on_metrics(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    pki = public_like_pki(leaf_dns=("mail.contoso.com",))
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'Contoso, "Mail" Ltd\\'),
                         x509.NameAttribute(NameOID.COMMON_NAME, "mail.contoso.com")])
    leaf = issue(subject, issuer=pki.intermediate, dns=("mail.contoso.com", "autodiscover.contoso.com"),
                 not_before=now - timedelta(days=3), not_after=now - timedelta(days=1), serial=0x00FF01)
    (tmp_path / "chain.pem").write_bytes(leaf.pem + pki.intermediate.pem)
    (tmp_path / "key.pem").write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    (tmp_path / "root.pem").write_bytes(pki.root.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    with LoopbackServer(tls_after_starttls(context)) as server:
        started = datetime.now(timezone.utc)
        report = asyncio.run(probe_and_judge_async(
            [f"127.0.0.1:{server.port}"], options=ProbeOptions(expect_name="mail.contoso.com", timeout=10, sweep=False),
            trust=TrustOptions(trust=(str(tmp_path / "root.pem"),))))
    round_ = observe_round(report, number=1, started_at=started, finished_at=datetime.now(timezone.utc))
    [seen] = round_.observations
    with start_metrics_server("127.0.0.1", 0) as metrics:
        metrics.update(round_, {seen.label: started})
        with DIRECT.open(f"http://127.0.0.1:{metrics.port}/metrics", timeout=10) as response:
            text = response.read().decode()
    found = {s.name: s for family in text_string_to_metric_families(text) for s in family.samples}
    info = found["probe_ssl_last_chain_info"].labels
    assert info["subject"] == 'CN=mail.contoso.com,O=Contoso\\, \\"Mail\\" Ltd\\\\,C=US'  # as Go renders it
    assert info["issuer"] == "CN=Test TLS Issuing CA 2026,O=Test Trust Services,C=US"
    assert info["serialnumber"] == "ff01" and info["subjectalternative"] == "mail.contoso.com,autodiscover.contoso.com"
    assert info["instance"] == f"127.0.0.1:{server.port}" and info["address"] == "127.0.0.1"
    # expired: blackbox_exporter's handshake would fail and these would vanish; ours stay, with the verdicts
    assert found["probe_success"].value == 1
    assert found["probe_ssl_earliest_cert_expiry"].value == leaf.cert.not_valid_after_utc.timestamp()
    assert found["hybridtls_chain_trusted"].value == 0 and found["hybridtls_name_covered"].value == 1
    assert found["hybridtls_cert_not_before_timestamp_seconds"].value == leaf.cert.not_valid_before_utc.timestamp()
    assert any(s.name == "hybridtls_findings" and s.labels["severity"] == "error"
               for family in text_string_to_metric_families(text) for s in family.samples)
