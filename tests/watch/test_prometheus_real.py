"""The example Prometheus configuration and alerting rules, tested with Debian's prometheus package: promtool
checks them and runs their unit tests, and a real Prometheus on loopback scrapes a metrics server fed a round and
answers the queries the rules make. Skipped without prometheus, except under CI (.ci/run installs it)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from metrics_rounds import estate

from hybridtls.watch.metrics import MetricsServer, exposition, start_metrics_server

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "prometheus"
PROMTOOL, PROMETHEUS = shutil.which("promtool"), shutil.which("prometheus")

if not (PROMTOOL and PROMETHEUS):
    if os.environ.get("CI"):
        raise RuntimeError("prometheus and promtool must be installed under CI (.ci/run installs Debian's prometheus)")
    pytest.skip("Debian's prometheus package is not installed", allow_module_level=True)


def promtool(*argv: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL
    return subprocess.run([PROMTOOL, *argv], cwd=EXAMPLES, capture_output=True, text=True, timeout=120)


def test_promtool_accepts_the_config_and_rules_and_their_unit_tests_pass() -> None:
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0 and "1 rule files found" in config.stdout, config.stdout + config.stderr
    rules = promtool("check", "rules", "hybridtls-rules.yml")
    assert rules.returncode == 0 and "10 rules found" in rules.stdout, rules.stdout + rules.stderr
    unit = promtool("test", "rules", "hybridtls-rules.test.yml")
    assert unit.returncode == 0 and "SUCCESS" in unit.stdout, unit.stdout + unit.stderr


def test_promtool_would_catch_a_rule_that_no_longer_fires(tmp_path: Path) -> None:
    # the unit file is a real check: a threshold changed in the rules makes it fail
    rules = (EXAMPLES / "hybridtls-rules.yml").read_text().replace("/ 86400 < 7", "/ 86400 < 3")
    (tmp_path / "hybridtls-rules.yml").write_text(rules)
    shutil.copy(EXAMPLES / "hybridtls-rules.test.yml", tmp_path)
    assert PROMTOOL
    run = subprocess.run([PROMTOOL, "test", "rules", "hybridtls-rules.test.yml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "HybridTlsCertificateExpiresIn7Days" in run.stdout + run.stderr


def test_promtool_lints_the_exposition_clean() -> None:
    round_, changed = estate()
    assert PROMTOOL
    run = subprocess.run([PROMTOOL, "check", "metrics"], input=exposition(round_, changed), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and not run.stdout.strip() and not run.stderr.strip(), run.stdout + run.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def metrics() -> Iterator[MetricsServer]:
    round_, changed = estate()
    with start_metrics_server("127.0.0.1", 0) as server:
        server.update(round_, changed)
        yield server


@pytest.fixture
def prometheus(tmp_path: Path, metrics: MetricsServer) -> Iterator[str]:
    config = (EXAMPLES / "prometheus.yml").read_text()
    config = config.replace("scrape_interval: 1m", "scrape_interval: 1s")
    config = config.replace("evaluation_interval: 1m", "evaluation_interval: 1s")
    config = config.replace('"127.0.0.1:9925"', f'"127.0.0.1:{metrics.port}"')
    config = config.replace("- hybridtls-rules.yml", f"- {EXAMPLES / 'hybridtls-rules.yml'}")
    (tmp_path / "prometheus.yml").write_text(config)
    port = _free_port()
    assert PROMETHEUS
    process = subprocess.Popen(
        [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))  # noqa: SIM115
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment


def _get(base: str, path: str, **params: str) -> Any:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    with DIRECT.open(url, timeout=10) as response:
        return json.loads(response.read())


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    """The query's result once the first scrapes are in (polled; Prometheus needs a few seconds to start)."""
    for _ in range(240):
        try:
            result: list[dict[str, Any]] = _get(base, "/api/v1/query", query=expr)["data"]["result"]
        except OSError:
            result = []
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"Prometheus never answered {expr!r}")


def test_a_real_prometheus_scrapes_the_series_the_rules_use(prometheus: str) -> None:
    round_, _ = estate()
    labels = {o.address: o.label for o in round_.observations}
    success = {r["metric"]["address"]: (r["metric"]["instance"], r["value"][1])
               for r in _query(prometheus, 'probe_success{job="hybridtls"}')}
    # honor_labels: the address probed is the instance, not the watch's own address
    assert success == {"127.0.0.1": (labels["127.0.0.1"], "1"), "127.0.0.2": (labels["127.0.0.2"], "1"),
                       "127.0.0.3": (labels["127.0.0.3"], "0")}
    expiring = _query(prometheus, "(probe_ssl_earliest_cert_expiry - time()) / 86400 < 14")
    assert [r["metric"]["address"] for r in expiring] == ["127.0.0.2"] and float(expiring[0]["value"][1]) < 0
    untrusted = _query(prometheus, "hybridtls_chain_trusted == 0")
    assert [r["metric"]["address"] for r in untrusted] == ["127.0.0.2"]
    [info] = _query(prometheus, 'probe_ssl_last_chain_info{address="127.0.0.1"}')
    assert info["metric"]["subject"] == "CN=mail.contoso.com,O=Contoso Ltd,C=US"
    [odd] = _query(prometheus, "count by (job, host) (count by (job, host, fingerprint_sha256) "
                               "(probe_ssl_last_chain_info)) > 1")
    assert odd["metric"] == {"job": "hybridtls", "host": "mail.contoso.com"} and odd["value"][1] == "2"
    [errors] = _query(prometheus, 'sum by (job, instance, check_id) (hybridtls_findings{severity="error"}) > 0')
    assert errors["metric"]["check_id"] == "HT-WIRE-001" and errors["value"][1] == "2"
    changed = _query(prometheus, "time() - hybridtls_cert_last_change_timestamp_seconds")
    assert {r["metric"]["address"] for r in changed} == {"127.0.0.1", "127.0.0.2"}


def test_the_rules_load_and_go_pending_on_the_scraped_round(prometheus: str) -> None:
    names: set[tuple[str, str]] = set()
    for _ in range(240):
        try:
            alerts = _get(prometheus, "/api/v1/alerts")["data"]["alerts"]
        except OSError:
            alerts = []
        names = {(a["labels"]["alertname"], a["labels"].get("address", "")) for a in alerts}
        if ("HybridTlsChainUntrusted", "127.0.0.2") in names and ("HybridTlsOddNode", "") in names:
            break
        time.sleep(0.25)
    assert ("HybridTlsChainUntrusted", "127.0.0.2") in names and ("HybridTlsProbeFailing", "127.0.0.3") in names
    assert ("HybridTlsChainUntrusted", "127.0.0.1") not in names
    groups = _get(prometheus, "/api/v1/rules")["data"]["groups"]
    assert {rule["health"] for group in groups for rule in group["rules"]} == {"ok"}
