"""The JSON report carries the model: every record of the evidence, described by the committed schema (v3)."""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
import shutil
import typing
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import CASES, FIXTURES, certificate, format_list, run_cli
from factory import public_like_pki
from hypothesis import given
from hypothesis import strategies as st

from hybridtls import model
from hybridtls.checks import checks_for, run_checks
from hybridtls.checks.base import CheckContext
from hybridtls.errors import EvidenceError
from hybridtls.evidence.saved_probes import read_saved_probes, read_saved_report
from hybridtls.model import (
    AnchorRecord,
    CheckOutcome,
    CheckStatus,
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    ProbeOutcome,
    ProbeResult,
    ProbeStep,
    Severity,
    Source,
    TranscriptDirection,
    TranscriptLine,
    TrustBasis,
)
from hybridtls.pki.facts import certificate_facts
from hybridtls.report import Report
from hybridtls.report.json import render_json

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).parents[1]
SCHEMA = json.loads((ROOT / "src/hybridtls/report/schema/report-v4.json").read_text(encoding="utf-8"))
PKI = public_like_pki(leaf_dns=("mx.contoso.test", "mail.contoso.test"))
OBSERVED = datetime(2026, 11, 27, 11, 58, 3, tzinfo=timezone.utc)


def valid(document: dict[str, Any]) -> dict[str, Any]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = [f"{e.json_path}: {e.message[:300]}" for e in validator.iter_errors(document)]
    assert not errors, "\n".join(errors[:10])
    return document


def probe_result(**overrides: Any) -> ProbeResult:
    """What a probe of a good server records: the transcript, the sweep and the chain as served."""
    label = "mx.contoso.test[127.0.0.1]:2525"
    chain = tuple(certificate_facts(issued.cert, source=Source(path=f"probe {label}"),
                                    label=f"{label}, certificate {n} presented")
                  for n, issued in enumerate((PKI.leaf, PKI.intermediate), 1))
    values: dict[str, Any] = dict(
        host="mx.contoso.test", address="127.0.0.1", port=2525, expected_name="mx.contoso.test",
        outcome=ProbeOutcome.OK, stage=ProbeStep.QUIT, detail="",
        transcript=(TranscriptLine(step=ProbeStep.BANNER, direction=TranscriptDirection.RECEIVED, text="220 mx.contoso.test ESMTP \x1b[31m"),
                    TranscriptLine(step=ProbeStep.EHLO, direction=TranscriptDirection.SENT, text="EHLO probe.hybridtls.test"),
                    TranscriptLine(step=ProbeStep.STARTTLS, direction=TranscriptDirection.RECEIVED, text="220 2.0.0 Ready to start TLS")),
        banner="220 mx.contoso.test ESMTP", extensions=("PIPELINING", "STARTTLS", "8BITMIME"),
        starttls_offered=True, tls_version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", chain=chain,
        versions_accepted=(("TLSv1", False), ("TLSv1.1", None), ("TLSv1.2", True), ("TLSv1.3", True)),
        elapsed_ms=412, observed_at=OBSERVED)
    values.update(overrides)
    return ProbeResult(**values)


def anchor(origin: str) -> AnchorRecord:
    der = PKI.root.der
    return AnchorRecord(origin=origin, sha256=hashlib.sha256(der).hexdigest().upper(),
                        subject="CN=Test Root CA, O=Test Trust Services, C=US", der=der)


# --- several real runs, each valid against the committed schema --------------------------------------------------

def test_founding_case() -> None:
    run = run_cli("check", str(ROOT / "examples" / "founding-incident"), "--format", "json", "--now", "2016-02-20")
    document = valid(json.loads(run.out))
    assert document["schema_version"] == 4 and document["verdict"] == "fail"
    records = document["records"]
    inventory = {(c["server"]["name"], c["server"]["basis"], c["root_ca_type"]) for c in records["certificates"]}
    assert inventory == {("excas1", "folder name", "Registry"), ("exmbx1", "folder name", "ThirdParty")}
    [trace] = records["trace_entries"]
    assert trace["status"] == "Pending" and trace["received"] == "2016-02-18T11:23:21"
    assert trace["source"] == {"path": str(ROOT / "examples/founding-incident/exchange-online/Get-MessageTrace.txt"),
                               "line": 3}
    root = document["findings"][0]
    assert root["key"] == ("HT-ROOT-001|server=excas1|certificate=issuer+serial:cn=quovadis ev ssl ica g1, "
                           "o=quovadis limited, c=bm|172ff4c1a3b4d13282a17c8080c1e552475cd4cb")
    assert root["about"] == {"server": "excas1", "connector": None, "address": None, "name": None,
                             "certificate": "issuer+serial:CN=QuoVadis EV SSL ICA G1, O=QuoVadis Limited, C=BM|"
                                            "172FF4C1A3B4D13282A17C8080C1E552475CD4CB"}
    checks = {c["id"]: c for c in document["checks"]}
    assert checks["HT-ROOT-001"] == {"id": "HT-ROOT-001", "title": checks["HT-ROOT-001"]["title"],
                                     "severity": "error", "status": "fired", "reason": None, "findings": 1}
    assert [c["id"] for c in document["checks"]] == [c.id for c in checks_for("check")]


def test_connector_rich_estate(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    shutil.copytree(FIXTURES / "plan" / "estate", estate)
    shutil.copytree(CASES / "founding-incident" / "exchange-online", estate / "trace")
    (estate / "onprem" / "Get-TransportService.txt").write_text(format_list(
        {"Name": "EXMBX1", "InternalTransportCertificateThumbprint": "F" * 40}))
    (estate / "EXMBX1" / "Get-Queue.txt").write_text(format_list({
        "Identity": "EXMBX1\\7", "DeliveryType": "SmartHostConnectorDelivery", "Status": "Retry",
        "NextHopDomain": "contoso.mail.onmicrosoft.com", "MessageCount": "37", "LastRetryTime": "3/14/2030 10:05:11 AM",
        "LastError": "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found."}))
    (estate / "EXMBX1" / "Get-Mailbox.txt").write_text(format_list({"Alias": "someone", "Database": "DB1"}))
    (estate / "EXMBX1" / "broken.json").write_bytes(b'{"Thumbprint": ')
    (estate / "EXMBX1" / "before-and-after.txt").write_text(format_list(  # a transcript: the same certificate twice
        certificate(Thumbprint="E" * 40, RootCAType="Registry"), certificate(Thumbprint="E" * 40, RootCAType="ThirdParty")))
    (estate / "new.pem").write_bytes(PKI.leaf.pem + PKI.intermediate.pem)
    shutil.copy(FIXTURES / "events" / "en-copy.txt", estate / "EXMBX1" / "events.txt")
    shutil.copy(FIXTURES / "stores" / "EXMBX1" / "stores-recurse.txt", estate / "EXMBX1" / "stores.txt")
    shutil.copy(FIXTURES / "stores" / "EXCAS1" / "certutil-verify.txt", estate / "EXMBX1" / "certutil-verify.txt")
    shutil.copy(FIXTURES / "rootupdate" / "EXEDGE1" / "reg-query-authroot-policy.txt", estate / "EXMBX1" / "reg.txt")
    shutil.copytree(FIXTURES / "domains", estate / "domains")  # accepted domains, DNSSEC status, TLSA (dig)
    run = run_cli("check", str(estate), "--format", "json", "--now", "2029-06-01", "--fail-on", "never")
    records = valid(json.loads(run.out))["records"]
    assert {k for k, v in records.items() if v} >= set(records) - {"trust", "recorded_anchors", "probes", "mta_sts", "notices",
                                                                     "smtp_sessions", "smtp_summaries",
                                                                     "tracking_summaries"}
    assert {c["direction"] for c in records["online_connectors"]} == {"inbound", "outbound"}
    assert [c["root_ca_type"] for c in records["superseded_certificates"]] == ["Registry"]
    assert records["transport_services"][0]["internal_transport_certificate_thumbprint"] == "F" * 40
    [queue] = records["delivery_errors"]
    assert queue["server"] == "EXMBX1" and queue["text"].startswith("454 4.7.5")
    [chain] = records["chains"]
    assert [link["subject"] for link in chain["path"]] == [c["subject"] for c in records["certificate_files"]]
    assert chain["end"] == "missing_issuer" and chain["missing_issuer_urls"] == [
        "http://crt.testtrust.example.com/root.crt"]
    assert [(e["event_id"], e["time"]) for e in records["events"]] == [
        (12014, "2016-02-18T00:20:05+00:00"), (1035, "2016-02-18T11:31:47"), (12018, "2016-02-18T14:02:11")]


def test_cert_report(tmp_path: Path) -> None:
    paths = []
    for label, issued in (("leaf", PKI.leaf), ("inter", PKI.intermediate), ("root", PKI.root)):
        paths.append(tmp_path / f"{label}.pem")
        paths[-1].write_bytes(issued.pem)
    run = run_cli("cert", str(paths[0]), "--intermediates", str(paths[1]), "--trust", str(paths[2]),
                  "--name", "mail.contoso.test", "--format", "json")
    records = valid(json.loads(run.out))["records"]
    [leaf] = records["certificate_files"]
    assert base64.b64decode(leaf["der_base64"]) == PKI.leaf.der
    assert {"name": "Server Authentication", "oid": "1.3.6.1.5.5.7.3.1"} in leaf["extended_key_usage"]
    [chain] = records["chains"]
    assert chain["end"] == "trusted" and chain["leaf"]["thumbprint"] == leaf["thumbprint"] and len(chain["path"]) == 3


def test_probe_report(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def served(host: str, address: str, port: int, expected: str, settings: object) -> ProbeResult:
        return probe_result(host=host, address=address, port=port, expected_name=expected)

    monkeypatch.setattr("hybridtls.smtp.runner.probe_address", served)
    root = tmp_path / "root.pem"
    root.write_bytes(PKI.root.pem)
    run = run_cli("probe", "mx.contoso.test:2525", "--resolve", "mx.contoso.test=127.0.0.1", "--trust", str(root),
                  "--now", "2026-11-27T12:00", "--format", "json")
    document = valid(json.loads(run.out))
    assert run.code == 0, document["findings"]
    [probe] = document["records"]["probes"]
    assert probe["observed_at"] == "2026-11-27T11:58:03+00:00"
    assert probe["versions_accepted"] == {"TLSv1": False, "TLSv1.1": None, "TLSv1.2": True, "TLSv1.3": True}
    assert probe["source"] == {"path": "probe mx.contoso.test[127.0.0.1]:2525", "line": None}
    assert "\\u001b[31m" in run.out and "\x1b" not in run.out  # untrusted text stays escaped
    saved = tmp_path / "probe.json"
    saved.write_text(run.out, encoding="utf-8")
    again = run_cli("check", str(saved), "--now", "2026-11-27T12:00", "--format", "json")
    [read] = valid(json.loads(again.out))["records"]["probes"]
    assert {k: v for k, v in read.items() if k != "chain"} == {k: v for k, v in probe.items() if k != "chain"}
    assert [c["der_base64"] for c in read["chain"]] == [c["der_base64"] for c in probe["chain"]]


def test_trust_and_recorded_anchors() -> None:
    evidence = EvidenceSet(probes=(probe_result(),), trust=TrustBasis(mozilla="certifi 2025.8.3",
                                                                       anchors=(anchor("--trust root.pem"),)),
                           recorded_anchors=(anchor("recorded in probe.json (--trust root.pem)"),))
    report = Report(command="check", evidence=evidence, checks=checks_for("check"),
                    outcomes=tuple(run_checks(evidence, CheckContext(now=OBSERVED.replace(tzinfo=None)))),
                    now=OBSERVED.replace(tzinfo=None), fail_on=Severity.WARNING)
    trust = valid(json.loads(render_json(report)))["records"]["trust"]
    assert trust["mozilla"] == "certifi 2025.8.3"
    [record] = trust["anchors"]
    assert record["origin"] == "--trust root.pem" and base64.b64decode(record["der_base64"]) == PKI.root.der


def test_a_date_read_two_ways_carries_both_readings_and_what_was_not_judged(tmp_path: Path) -> None:
    (tmp_path / "excas1").mkdir()
    (tmp_path / "excas1" / "c.txt").write_text(format_list(
        {"Thumbprint": "7B" * 20, "Subject": "CN=mail.contoso.com", "Issuer": "CN=Sectigo RSA Domain Validation",
         "NotAfter": "11/2/2026 1:53:00 PM", "NotBefore": "8/4/2026 1:43:23 PM", "Services": "IIS, SMTP",
         "IsSelfSigned": "False"}))
    run = run_cli("check", str(tmp_path), "--format", "json", "--now", "2026-11-01")
    document = valid(json.loads(run.out))
    [cert] = document["records"]["certificates"]
    assert (cert["not_after"], cert["not_before"]) == (None, None)
    assert cert["not_after_readings"] == {"text": "11/2/2026 1:53:00 PM", "day_first": "2026-02-11T13:53:00",
                                          "month_first": "2026-11-02T13:53:00"}
    assert cert["not_before_readings"]["day_first"] == "2026-04-08T13:43:23"
    checks = {c["id"]: c for c in document["checks"]}
    assert checks["HT-CERT-001"]["status"] == "not_applicable"
    assert "expired if 2026-02-11, not expired if 2026-11-02" in checks["HT-CERT-001"]["reason"]


# --- the schema describes every field of the model ---------------------------------------------------------------

DEFINITIONS = {
    "exchange_certificate": model.ExchangeCertificate, "certificate_file": model.CertificateFile,
    "chain": model.ChainAnalysis, "anchor": model.AnchorRecord, "trust": model.TrustBasis,
    "transcript_line": model.TranscriptLine, "probe": model.ProbeResult, "send_connector": model.SendConnector,
    "receive_connector": model.ReceiveConnector, "hybrid_configuration": model.HybridConfiguration,
    "online_connector": model.OnlineConnector, "transport_service": model.TransportService,
    "delivery_error": model.DeliveryError, "trace_entry": model.TraceEntry, "skipped": model.SkippedRecord,
    "note": model.Notice, "citation": model.Citation, "finding_subject": model.FindingSubject,
    "server_ref": model.ServerRef, "source": model.Source, "configured_by": model.ConfiguredBy,
    "windows_event": model.WindowsEvent, "date_readings": model.DateReadings,
    "smtp_session": model.SmtpSession,
    "smtp_log_summary": model.SmtpLogSummary, "tracking_summary": model.TrackingSummary,
    "logged_certificate": model.LoggedCertificate, "store_certificate": model.StoreCertificate,
}
EXTRA = {"certificate_file": {"tls_certificate_name"}, "probe": {"label", "source"}}


def json_keys(kind: type) -> set[str]:
    hints = typing.get_type_hints(kind)
    return {f.name + ("_base64" if hints[f.name] in (bytes, bytes | None) else "")
            for f in dataclasses.fields(kind) if f.name != "field_lines"}


@pytest.mark.parametrize("definition", sorted(DEFINITIONS))
def test_schema_names_every_field(definition: str) -> None:
    described = SCHEMA["$defs"][definition]
    assert described["additionalProperties"] is False
    expected = json_keys(DEFINITIONS[definition]) | EXTRA.get(definition, set())
    assert set(described["properties"]) == expected == set(described["required"])


def test_schema_names_every_kind_of_record_and_every_enum_value() -> None:
    records = SCHEMA["properties"]["records"]
    assert set(records["properties"]) == json_keys(EvidenceSet) == set(records["required"])
    finding = SCHEMA["$defs"]["finding"]["properties"]
    assert json_keys(model.Finding) | {"key"} <= set(finding)
    enums = {("exchange_certificate", "root_ca_type"): model.RootCAType,
             ("exchange_certificate", "status"): model.CertificateStatus,
             ("online_connector", "direction"): model.ConnectorDirection,
             ("trace_entry", "status"): model.TraceStatus, ("chain", "end"): model.ChainEnd,
             ("probe", "outcome"): model.ProbeOutcome, ("server_ref", "basis"): model.ServerBasis,
             ("check", "status"): model.CheckStatus, ("windows_event", "layout"): model.EventLayout,
             ("windows_event", "level"): model.EventLevel,
             ("smtp_session", "tls"): model.TlsOutcome,
             ("smtp_session", "log_type"): model.SmtpLogType, ("smtp_log_summary", "log_type"): model.SmtpLogType,
             ("store_certificate", "view"): model.StoreView, ("store_certificate", "store_basis"): model.StoreBasis}
    for (definition, field), kind in enums.items():
        listed = set(SCHEMA["$defs"][definition]["properties"][field]["enum"]) - {None}
        assert listed == {member.value for member in kind}, (definition, field)


# --- a saved report read back as evidence --------------------------------------------------------------------------

SAVED = "saved/probe.json"


def saved_document(probe: ProbeResult, *, trust: TrustBasis | None = None,
                   recorded: tuple[AnchorRecord, ...] = ()) -> dict[str, Any]:
    evidence = EvidenceSet(files=(probe.label,), probes=(probe,), trust=trust, recorded_anchors=recorded)
    now = OBSERVED.replace(tzinfo=None)
    report = Report(command="probe", evidence=evidence, checks=checks_for("probe"),
                    outcomes=tuple(run_checks(evidence, CheckContext(now=now), checks_for("probe"))), now=now,
                    fail_on=Severity.WARNING)
    return valid(json.loads(render_json(report)))


def without_labels(probe: ProbeResult) -> ProbeResult:
    return dataclasses.replace(probe, chain=tuple(dataclasses.replace(c, label="") for c in probe.chain))


def test_a_probe_round_trips() -> None:
    original = probe_result()
    [read], anchors = read_saved_report(saved_document(original), SAVED)
    assert without_labels(read) == without_labels(original) and anchors == []
    assert read.observed_at == OBSERVED and read.versions_accepted == original.versions_accepted
    assert read.transcript == original.transcript and [c.der for c in read.chain] == [PKI.leaf.der, PKI.intermediate.der]
    assert read.chain[0].label == "mx.contoso.test[127.0.0.1]:2525, certificate 1 presented (saved in saved/probe.json)"
    assert read_saved_probes(saved_document(original), SAVED) == [read]


def test_the_anchors_a_report_was_judged_with_come_back_recorded() -> None:
    document = saved_document(probe_result(), trust=TrustBasis(mozilla="certifi 2025.8.3",
                                                               anchors=(anchor("--trust root.pem"),)),
                              recorded=(anchor("recorded in first.json (--trust root.pem)"),))
    _, anchors = read_saved_report(document, SAVED)
    assert anchors == [dataclasses.replace(anchor("--trust root.pem"),
                                           origin="recorded in saved/probe.json (--trust root.pem)")]
    del document["records"]["trust"]["anchors"][0]  # the same root, recorded by an earlier run
    _, anchors = read_saved_report(document, SAVED)
    assert [a.origin for a in anchors] == ["recorded in saved/probe.json (recorded in first.json (--trust root.pem))"]


def test_a_version_1_report_is_still_read() -> None:
    document = json.loads((FIXTURES / "saved" / "probe-v1.json").read_text(encoding="utf-8"))
    [read], anchors = read_saved_report(document, "probe-v1.json")
    assert anchors == [] and read.observed_at is None and read.label == "mx.contoso.test[127.0.0.1]:2525"
    assert read.versions_accepted == (("TLSv1", False), ("TLSv1.1", None), ("TLSv1.2", True), ("TLSv1.3", True))
    assert [c.subject for c in read.chain] == ["CN=mx.contoso.test, O=Contoso Ltd, C=US",
                                               "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"]
    assert [c.thumbprint for c in read.chain] == [c["thumbprint"] for c in document["probes"][0]["chain"]]


def version_5(der: bytes) -> bytes:
    return der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x04", 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(port=10**5000), "probe 1 of this hybridtls report is malformed: port: expected a whole "
                                            "number from 0 to 65535, found a 16610-bit number"),
        (lambda p: p.update(port=True), "port: expected a whole number from 0 to 65535, found true"),
        (lambda p: p.pop("outcome"), "probe 1 (mx.contoso.test[127.0.0.1]:2525) of this hybridtls report is "
                                     "malformed: outcome: missing"),
        (lambda p: p.update(elapsed_ms=10**5000), "elapsed_ms: expected a whole number from 0 to"),
        (lambda p: p["chain"][1].update(der_base64=base64.b64encode(version_5(PKI.intermediate.der)).decode()),
         "chain[1].der_base64: not a certificate hybridtls can read (InvalidVersion"),
        (lambda p: p["chain"][0].update(der_base64="not base64!"), "chain[0].der_base64: not base64"),
        (lambda p: p["chain"][0].update(der_base64="\x80"), "chain[0].der_base64: not base64"),
        (lambda p: p["transcript"][1].update(text=["EHLO"]), "transcript[1].text: expected text, found an array"),
        (lambda p: p["versions_accepted"].update({"TLSv1.2": "yes"}), "versions_accepted.TLSv1.2: expected true"),
        (lambda p: p.update(observed_at="yesterday"), "observed_at: not an ISO 8601 time: 'yesterday'"),
        (lambda p: p.update(outcome="fine"), "outcome: not a probe outcome: 'fine'"),
    ],
)
def test_bad_values_name_the_file_and_the_probe(change, message: str) -> None:  # type: ignore[no-untyped-def]
    document = saved_document(probe_result())
    change(document["records"]["probes"][0])
    with pytest.raises(EvidenceError) as caught:
        read_saved_report(document, SAVED)
    assert caught.value.path == SAVED and message in caught.value.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=5), "schema_version 5; this version of hybridtls reads"),
        (lambda d: d.update(schema_version=10**5000), "schema_version a 16610-bit number"),
        (lambda d: d.pop("records"), "has no 'records' object"),
        (lambda d: d["records"].update(probes=[]), "a hybridtls probe report holds no probe results"),
        (lambda d: d["records"].update(trust=[]), "records.trust of this hybridtls report is malformed"),
        (lambda d: d["records"]["recorded_anchors"].append(dict(d["records"]["trust"]["anchors"][0], sha256="AB")),
         "records.recorded_anchors[0].sha256: does not match the certificate in der_base64"),
        (lambda d: d["records"]["trust"]["anchors"][0].update(der_base64=base64.b64encode(
            version_5(PKI.root.der)).decode()), "records.trust.anchors[0].der_base64: not a certificate"),
    ],
)
def test_bad_documents_and_anchors_name_the_file(change, message: str) -> None:  # type: ignore[no-untyped-def]
    document = saved_document(probe_result(), trust=TrustBasis(mozilla=None, anchors=(anchor("--trust r.pem"),)))
    change(document)
    with pytest.raises(EvidenceError) as caught:
        read_saved_report(document, SAVED)
    assert caught.value.path == SAVED and message in caught.value.message


BASE = saved_document(probe_result(), trust=TrustBasis(mozilla=None, anchors=(anchor("--trust r.pem"),)))
DELETE = object()
HUGE = "(a 5,000-digit number)"  # hypothesis cannot print one: put in by huge() once drawn
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.just(HUGE) | st.floats()
    | st.text(max_size=12) | st.sampled_from(["ok", "2026-11-27T11:58:03+00:00", base64.b64encode(
        version_5(PKI.leaf.der)).decode(), "TUlJ", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*at, index))
    return found


def huge(value: Any) -> Any:
    if value == HUGE:
        return 10**5000
    if isinstance(value, list):
        return [huge(item) for item in value]
    if isinstance(value, dict):
        return {key: huge(item) for key, item in value.items()}
    return value


def changed(document: dict[str, Any], at: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in at[:-1]:
        parent = parent[key]
    if value is DELETE:
        del parent[at[-1]]
    else:
        parent[at[-1]] = huge(value)
    return copy


PROBE_PLACES = [("records", "probes", 0, *at) for at in places(BASE["records"]["probes"][0])]
RECORD_PLACES = [("records", *at) for at in places(BASE["records"]) if at[0] != "probes"]


@given(at=st.sampled_from(PROBE_PLACES), value=st.just(DELETE) | JSON_VALUES)
def test_any_damage_to_a_probe_is_an_evidence_error_naming_it(at: tuple[Any, ...], value: Any) -> None:
    try:
        read_saved_report(changed(BASE, at, value), SAVED)
    except EvidenceError as exc:
        assert exc.path == SAVED and exc.message.startswith("probe 1 ")
        str(exc)  # and it can be shown


@given(at=st.sampled_from(RECORD_PLACES + [("schema_version",), ("records",)]),
       value=st.just(DELETE) | JSON_VALUES)
def test_any_damage_to_the_records_is_an_evidence_error(at: tuple[Any, ...], value: Any) -> None:
    try:
        read_saved_report(changed(BASE, at, value), SAVED)
    except EvidenceError as exc:
        assert exc.path == SAVED
        str(exc)


TEXT = st.text(max_size=20)


@given(subject=TEXT, message=TEXT, server=st.none() | TEXT, severity=st.sampled_from(Severity),
       about=st.builds(FindingSubject, server=st.none() | TEXT, certificate=st.none() | TEXT,
                       connector=st.none() | TEXT, address=st.none() | TEXT, name=st.none() | TEXT),
       cited=st.lists(st.tuples(TEXT, st.none() | st.integers(1, 10**6), TEXT), max_size=3))
def test_findings_round_trip_through_json(subject: str, message: str, server: str | None, severity: Severity,
                                          about: FindingSubject, cited: list[tuple[str, int | None, str]]) -> None:
    check = checks_for("check")[0]
    finding = Finding(check_id=check.id, severity=severity, subject=subject, message=message, server=server,
                      about=about, evidence=tuple(Citation(source=Source(path=p, line=n), text=t) for p, n, t in cited))
    outcome = CheckOutcome(check_id=check.id, status=CheckStatus.FIRED, findings=(finding,))
    report = Report(command="check", evidence=EvidenceSet(), checks=(check,), outcomes=(outcome,),
                    now=OBSERVED.replace(tzinfo=None), fail_on=None)
    [written] = valid(json.loads(render_json(report)))["findings"]
    read = Finding(check_id=written["check_id"], severity=Severity(written["severity"]), subject=written["subject"],
                   message=written["message"], remediation=written["remediation"], server=written["server"],
                   about=FindingSubject(**written["about"]),
                   evidence=tuple(Citation(source=Source(**c["source"]), text=c["text"]) for c in written["evidence"]))
    assert read == finding and written["key"] == finding.key


class Colour(str, enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NewRecord:
    """A record type the writer has never seen: each field takes its generic form without code in the writer."""

    source: Source
    field_lines: Mapping[str, int] = dataclasses.field(default_factory=dict)
    blob: bytes = b"\x00\xff"
    tags: frozenset[str] = frozenset({"b", "a"})
    pairs: tuple[tuple[str, int], ...] = (("x", 1),)
    colour: Colour | None = Colour.RED
    when: datetime | None = OBSERVED
    counts: Mapping[str, Colour] = dataclasses.field(default_factory=lambda: {"one": Colour.RED})
    plain: str | None = None


def test_a_new_record_type_is_written_without_code_in_the_writer() -> None:
    from hybridtls.report.json import _plain

    assert _plain(NewRecord(source=Source(path="f.txt", line=2))) == {
        "source": {"path": "f.txt", "line": 2}, "blob_base64": "AP8=", "tags": ["a", "b"], "pairs": [["x", 1]],
        "colour": "red", "when": "2026-11-27T11:58:03+00:00", "counts": {"one": "red"}, "plain": None}


@given(edits=st.lists(st.tuples(st.integers(0, len(PKI.leaf.der) - 1), st.integers(0, 255)), min_size=1, max_size=4),
       cut=st.none() | st.integers(0, len(PKI.leaf.der)))
def test_a_damaged_certificate_is_an_evidence_error_naming_the_probe(edits: list[tuple[int, int]],
                                                                     cut: int | None) -> None:
    der = bytearray(PKI.leaf.der)
    for position, byte in edits:
        der[position] = byte
    document = json.loads(json.dumps(BASE))
    document["records"]["probes"][0]["chain"][0]["der_base64"] = base64.b64encode(bytes(der[:cut])).decode()
    try:
        read_saved_report(document, SAVED)
    except EvidenceError as exc:
        assert exc.path == SAVED and exc.message.startswith("probe 1 ") and "chain[0].der_base64" in exc.message


def test_json_is_ascii_and_indented_whatever_the_writer() -> None:
    from hybridtls.report.json import dump_json

    document = {"text": "caf\u00e9 \u202e \x7f \x1b \U0001f600", "big": 2**70, "list": [], "nested": {"a": [1, 2]}}
    text = dump_json(document)
    assert text == json.dumps(document, indent=2, ensure_ascii=True) + "\n"  # the fallback writer (2**70)
    del document["big"]
    text = dump_json(document)
    assert text == json.dumps(document, indent=2, ensure_ascii=True) + "\n"  # orjson, made ASCII the same way
    assert text.isascii()


def test_records_written_in_batches_are_the_same_document(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hybridtls.report.json as writer
    from hybridtls.checks import checks_for
    from hybridtls.model import EvidenceSet, Source, TraceEntry
    from hybridtls.report import Report

    entries = tuple(TraceEntry(source=Source(path="trace.txt", line=n), subject=f"m\u00e9ssage {n} \u202e")
                    for n in range(7))
    report = Report(command="check", evidence=EvidenceSet(files=("trace.txt",), trace_entries=entries),
                    checks=checks_for("check"), outcomes=(), now=datetime(2026, 11, 30), fail_on=None)
    whole = writer.dump_json(writer.report_document(report))
    for batch in (1, 2, 3, 6, 7, 100):
        monkeypatch.setattr(writer, "_BATCH", batch)
        assert writer.render_json(report) == whole


def test_command_lines_and_error_text() -> None:
    folder = FIXTURES / "commands"
    run = run_cli("check", str(folder), "--format", "json", "--now", "2026-11-27", "--fail-on", "never")
    records = valid(json.loads(run.out))["records"]
    [script_send] = [s for s in records["send_connectors"] if s["source"]["path"].endswith("configure-hybrid.ps1")]
    assert script_send["configured_by"] == {
        "command": "New-SendConnector", "unknown": {"tlscertificatename": "$TLSCertName"},
        "parameters": ["name", "addressspaces", "cloudservicesmailenabled", "requiretls", "tlsauthlevel", "tlsdomain",
                       "sourcetransportservers", "usage", "dnsroutingenabled", "tlscertificatename", "fqdn"]}
    assert script_send["tls_certificate_name"] is None
    assert {e["origin"] for e in records["delivery_errors"]} == {"NDR diagnostic information", "LastError line",
                                                                 "error line"}
