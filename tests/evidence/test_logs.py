"""Exchange logs: SMTP protocol logs rebuilt into sessions and summaries, message-tracking logs into delivery errors
and counts. Fixtures under fixtures/logs (both TLS row styles, send and receive, a forum paste without the header,
quoting with commas and doubled quotes, a localised connector name, a UTF-16 file)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli
from hypothesis import given
from hypothesis import strategies as st
from test_json_model import valid

from hybridtls.errors import EvidenceError
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.logs import common as logs_module
from hybridtls.evidence.logs import protocol, tracking
from hybridtls.evidence.registry import read_records
from hybridtls.model import (
    DeliveryError,
    LoggedCertificate,
    SmtpLogSummary,
    SmtpLogType,
    SmtpSession,
    TlsOutcome,
    TrackingSummary,
)

LOGS = FIXTURES / "logs"
GOLDEN = Path(__file__).parent.parent / "golden"
RECEIVE = LOGS / "EXCAS1" / "RECV2026110208-1.LOG"
RECEIVE_UTF16 = LOGS / "EXCAS1" / "RECV2026110308-1.LOG"
SEND = LOGS / "EXMBX1" / "SEND2026110209-1.LOG"
PASTE = LOGS / "forum-paste.txt"
TRACKING = LOGS / "EXMBX1" / "MSGTRK2026110209-1.LOG"
OURS = LoggedCertificate(subject="CN=mail.contoso.com, O=Contoso Ltd, C=US",
                         issuer='CN=Test TLS Issuing CA 2026, O="Test Trust Services, Inc.", C=US',
                         thumbprint="A1B2C3D4E5F60718293A4B5C6D7E8F9012345678", serial_number="0A1B2C3D4E5F60718293")
MICROSOFT = LoggedCertificate(subject="CN=mail.protection.outlook.com, O=Microsoft Corporation, L=Redmond, "
                              "S=Washington, C=US", issuer="CN=DigiCert Cloud Services CA-1, O=DigiCert Inc, C=US",
                              thumbprint="6B1A0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B",
                              serial_number="0F5E4D3C2B1A09F8E7D6C5B4A3928170")


def read(path: Path, display: str | None = None) -> list[object]:
    return list(read_records(EvidenceFile(display or str(path), path.read_bytes())))


def sessions(records: list[object]) -> list[SmtpSession]:
    return [r for r in records if isinstance(r, SmtpSession)]


def summaries(records: list[object]) -> list[SmtpLogSummary]:
    return [r for r in records if isinstance(r, SmtpLogSummary)]


def test_receive_log_older_style_rows() -> None:
    records = read(RECEIVE)
    ok, failed = sorted(sessions(records), key=lambda s: s.session_id)
    assert ok.log_type is SmtpLogType.RECEIVE and ok.server == "EXCAS1" and ok.connector == "Default Frontend EXCAS1"
    assert (ok.tls, ok.tls_protocol, ok.tls_cipher) == (TlsOutcome.SUCCEEDED, "TLS1_2",
                                                        "CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM")
    assert ok.certificate_sent == OURS and ok.certificate_received == MICROSOFT
    assert ok.remote_name == "AM6PR05CA0012.outbound.protection.outlook.com"
    assert (ok.first_seen, ok.last_seen) == (datetime(2026, 11, 2, 8, 15, 1, 120000), datetime(2026, 11, 2, 8, 15, 2, 2000))
    assert (ok.source.line, ok.rows, ok.complete) == (6, 25, True)
    assert (failed.tls, failed.tls_error, failed.failure_line) == (TlsOutcome.FAILED, "SocketError", 33)
    assert failed.failure == "TLS negotiation failed with error SocketError"
    # the Client Frontend session (no TLS) is counted, not kept
    client = next(s for s in summaries(records) if s.connector == "Client Frontend EXCAS1")
    assert (client.sessions, client.sessions_not_kept, client.tls_succeeded, client.tls_failed) == (1, 1, 0, ())


def test_send_log_single_row_style_and_a_localised_connector() -> None:
    records = read(SEND)
    ok, *failed = sessions(records)
    assert ok.log_type is SmtpLogType.SEND and ok.server == "EXMBX1"  # the folder names the server
    assert ok.connector == "Ausgehend zu Office 365 (Übergang)"
    assert ok.certificate_sent == replace(OURS, issuer="CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US")
    assert ok.certificate_received == MICROSOFT
    assert ok.remote_name == "AM4PEPF00027A5C.mail.protection.outlook.com" and ok.tls_protocol == "TLS1_2"
    assert [(s.session_id, s.tls_error) for s in failed] == [("08DE1A2B3C4D6F11", "UnknownCredentials"),
                                                            ("08DE1A2B3C4D6F12", "UnknownCredentials")]
    [first, second] = summaries(records)
    assert (first.remote_address, first.tls_succeeded) == ("52.101.68.10", 1)
    assert (second.remote_address, second.sessions, second.tls_failed) == ("52.101.68.11", 2,
                                                                          (("UnknownCredentials", 2),))


def test_utf16_reads_the_same_as_utf8() -> None:
    utf8 = read(RECEIVE, "x/EXCAS1/RECV.LOG")
    utf16 = read(RECEIVE_UTF16, "x/EXCAS1/RECV.LOG")
    moved = [replace(r, first_seen=r.first_seen.replace(day=2), last_seen=r.last_seen.replace(day=2),  # type: ignore[union-attr]
                     **({"session_id": r.session_id.replace("7E", "5E")} if isinstance(r, SmtpSession) else {}))
             for r in utf16]
    assert moved == utf8


def test_a_forum_paste_without_its_header() -> None:
    records = read(PASTE)
    assert [(s.server, s.connector, s.tls_error, s.failure_line) for s in sessions(records)] == [
        ("EX2016", "Default Frontend EX2016", "InvalidToken", 9),
        ("EX2016", "Default Frontend EX2016", "AlgorithmMismatch", 14)]
    assert sessions(records)[0].certificate_sent == LoggedCertificate(
        subject="CN=EX2016", issuer="CN=EX2016", thumbprint="9F8E7D6C5B4A39281706F5E4D3C2B1A098765432",
        serial_number="5C2F9A0B7E11D3A64F8E2C70B1D95E33")


@pytest.mark.parametrize("path", [SEND, TRACKING])
def test_field_names_as_a_plain_csv_header(path: Path) -> None:
    """A log saved again by a tool (Log Parser, Excel): the '#' lines gone, the field names as a CSV header."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if not line.startswith("#") or line.startswith("#Fields: ")]
    plain = "\n".join(lines).replace("#Fields: ", "") + "\n"
    display = f"x/{path.parent.name}/{path.name}"
    moved = []
    for r in read_text(plain, display):  # four header lines fewer: every line four earlier
        record = replace(r, source=replace(r.source, line=r.source.line + 4))  # type: ignore[attr-defined]
        if isinstance(record, SmtpSession) and record.failure_line:
            record = replace(record, failure_line=record.failure_line + 4)
        moved.append(record)
    assert moved == read(path, display)


def read_text(text: str, display: str) -> list[object]:
    return list(read_records(EvidenceFile(display, text.encode())))


def test_message_tracking_log() -> None:
    records = read(TRACKING)
    errors = [r for r in records if isinstance(r, DeliveryError)]
    assert [(e.source.line, e.origin, e.server, e.text[:20]) for e in errors] == [
        (8, "message tracking log EXMBX1", "EXMBX1", "451 4.4.0 Primary ta"),
        (9, "message tracking log EXMBX1", "EXMBX1", "550 5.9.99 QUUX.Unhe")]
    [summary] = [r for r in records if isinstance(r, TrackingSummary)]
    assert summary.events == (("RECEIVE", 1), ("SEND", 1), ("DEFER", 1), ("FAIL", 1))
    assert summary.first_seen == datetime(2026, 11, 2, 9, 5, 1, 101000)


def test_a_tracking_log_of_all_different_errors_yields_bounded_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking, "MAX_KEPT", 3)
    monkeypatch.setattr(tracking, "MAX_EVENTS", 2)
    rows = "".join(f"2026-11-02T08:00:0{i}.000Z,,EXMBX1,,{'DEFER' if i % 2 else f'EVENT{i}'},a@b,45{i} error {i}\n"
                   for i in range(8))
    records = list(read_records(EvidenceFile("EXMBX1/MSGTRK.LOG", (TRACK + rows).encode())))
    assert [r.text for r in records if isinstance(r, DeliveryError)] == ["451 error 1", "453 error 3", "455 error 5"]
    [summary] = [r for r in records if isinstance(r, TrackingSummary)]
    assert summary.events == (("EVENT0", 1), ("DEFER", 4), ("(other)", 3))


def _render(records: list[object]) -> str:
    lines = []
    for r in records:
        if isinstance(r, SmtpSession):
            lines.append(f"session {r.session_id} line {r.source.line} {r.log_type.value} {r.server} | {r.connector} | "
                         f"{r.local_endpoint} -> {r.remote_endpoint} ({r.remote_name}) {r.first_seen:%H:%M:%S.%f}-"
                         f"{r.last_seen:%H:%M:%S.%f} tls={r.tls.value} {r.tls_protocol} {r.tls_cipher} "
                         f"error={r.tls_error} at {r.failure_line} rows={r.rows}")
            for label, cert in (("sent", r.certificate_sent), ("received", r.certificate_received)):
                if cert:
                    lines.append(f"  {label}: {cert.subject} / {cert.issuer} / {cert.serial_number} / {cert.thumbprint}")
        elif isinstance(r, SmtpLogSummary):
            lines.append(f"summary line {r.source.line} {r.server} | {r.connector} | {r.remote_address} "
                         f"{r.first_seen:%Y-%m-%d %H:%M:%S} .. {r.last_seen:%Y-%m-%d %H:%M:%S} sessions={r.sessions} "
                         f"ok={r.tls_succeeded} failed={dict(r.tls_failed)} not_kept={r.sessions_not_kept} "
                         f"cut={r.sessions_cut} unfinished={r.sessions_unfinished}")
        elif isinstance(r, DeliveryError):
            lines.append(f"delivery error line {r.source.line} {r.origin} | {r.server} | {r.when} | {r.text}")
        elif isinstance(r, TrackingSummary):
            lines.append(f"tracking line {r.source.line} {r.server} {r.first_seen} .. {r.last_seen} {dict(r.events)}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("name", "golden"), [("EXMBX1/SEND2026110209-1.LOG", "logs-send-sessions.txt"),
                                             ("EXCAS1/RECV2026110208-1.LOG", "logs-recv-sessions.txt"),
                                             ("EXMBX1/MSGTRK2026110209-1.LOG", "logs-tracking.txt")])
def test_golden_records(name: str, golden: str) -> None:
    out = _render(read(LOGS / name, f"logs/{name}"))
    path = GOLDEN / golden
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


@given(st.integers(min_value=1, max_value=4096))
def test_any_chunking_reads_the_same_sessions(size: int) -> None:
    expected = read(SEND) + read(RECEIVE) + read(PASTE)
    old = logs_module.PIECE
    logs_module.PIECE = size
    try:
        assert read(SEND) + read(RECEIVE) + read(PASTE) == expected
    finally:
        logs_module.PIECE = old


HEADER = ("#Software: Microsoft Exchange Server\n#Version: 15.0.0.0\n#Log-type: SMTP Receive Protocol Log\n"
          "#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,"
          "context\n")
ROW = "2026-11-02T08:15:01.120Z,EXCAS1\\Default Frontend EXCAS1,08DE01,0,10.0.0.5:25,40.107.22.51:50644,+,,\n"
TRACK = ("#Software: Microsoft Exchange Server\n#Log-type: Message Tracking Log\n#Fields: date-time,client-ip,"
         "server-hostname,source-context,event-id,recipient-address,recipient-status\n")


@given(st.sampled_from([HEADER, ROW, TRACK]), st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_after_a_log_start_raise_only_evidence_error(start: str, tail: bytes) -> None:
    try:
        list(read_records(EvidenceFile("EXCAS1/RECV.LOG", start.encode() + tail)))
    except EvidenceError as exc:
        assert exc.path == "EXCAS1/RECV.LOG" and "\n" not in exc.message


@pytest.mark.parametrize(("text", "line", "words"), [
    (HEADER + "2026-11-02T08:15:01Z,a\\b,01,0,x\n", 5, "a protocol-log row of 5 fields"),
    (HEADER + "yesterday,a\\b,01,0,x,y,-,,\n", 5, "not an ISO 8601 UTC time"),
    (TRACK + "2026-11-02T08:15:01Z,1.2.3.4\n", 4, "a message-tracking row of 2 fields"),
    (HEADER + ROW + "2026-11-02T08:15:01Z,a\\b,01,1,x,y,*,\"" + "x" * 200_000 + "\",\n", 6, "field larger than field limit"),
], ids=["short row", "bad time", "short tracking row", "huge field"])
def test_bad_rows_name_their_line(text: str, line: int, words: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        list(read_records(EvidenceFile("RECV.LOG", text.encode())))
    assert caught.value.line == line and words in caught.value.message


def test_memory_is_bounded_open_sessions_and_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "MAX_OPEN", 2)
    monkeypatch.setattr(protocol, "MAX_ROWS", 3)
    rows = [f"2026-11-02T08:00:0{i}.000Z,S\\C,0{i},0,10.0.0.5:25,192.0.2.{i}:1,+,," for i in range(4)]
    rows += [f"2026-11-02T08:00:09.000Z,S\\C,03,{n},10.0.0.5:25,192.0.2.3:1,*,,Set Session Permissions"
             for n in range(1, 6)]
    rows.append("2026-11-02T08:00:09.500Z,S\\C,03,6,10.0.0.5:25,192.0.2.3:1,*,,TLS negotiation failed with error X")
    rows.append("2026-11-02T08:00:09.900Z,S\\C,03,7,10.0.0.5:25,192.0.2.3:1,-,,")
    records = list(read_records(EvidenceFile("RECV.LOG", (HEADER + "\n".join(rows) + "\n").encode())))
    counted = {s.remote_address: (s.sessions, s.sessions_cut, s.sessions_unfinished, s.tls_failed)
               for s in summaries(records)}
    assert counted == {"192.0.2.0": (1, 1, 0, ()), "192.0.2.1": (1, 1, 0, ()),  # closed early: a third was open
                       "192.0.2.2": (1, 0, 1, ()),  # left open at the end of the file
                       "192.0.2.3": (1, 1, 0, ())}  # its rows past the cap (the failure among them) not read


def test_a_file_of_all_different_sessions_yields_bounded_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(protocol, "MAX_KEPT", 3)
    monkeypatch.setattr(protocol, "MAX_TALLIES", 4)
    rows = []
    for i in range(10):  # each from its own address, each failing TLS with its own error
        rows += [f"2026-11-02T08:00:0{i}.000Z,S\\C,{i:02d},0,10.0.0.5:25,192.0.2.{i}:1,*,,TLS negotiation failed with "
                 f"error E{i}", f"2026-11-02T08:00:0{i}.500Z,S\\C,{i:02d},1,10.0.0.5:25,192.0.2.{i}:1,-,,"]
    records = list(read_records(EvidenceFile("RECV.LOG", (HEADER + "\n".join(rows) + "\n").encode())))
    assert [s.session_id for s in sessions(records)] == ["00", "01", "02"]
    counted = [(s.connector, s.remote_address, s.sessions, s.sessions_not_kept, len(s.tls_failed))
               for s in summaries(records)]
    assert counted == [("C", "192.0.2.0", 1, 0, 1), ("C", "192.0.2.1", 1, 0, 1), ("C", "192.0.2.2", 1, 0, 1),
                       ("C", "192.0.2.3", 1, 1, 1), (None, None, 6, 6, 6)]


def test_check_reads_a_folder_of_logs() -> None:
    evidence = load_evidence([str(LOGS)])
    assert not evidence.problems and evidence.usable
    assert len(evidence.smtp_summaries) == 10 and len(evidence.tracking_summaries) == 1
    run = run_cli("check", str(LOGS), "--now", "2026-11-05T00:00", "--format", "json")
    document = valid(json.loads(run.out))
    assert run.code == 1 and {(f["check_id"], f["key"], f["severity"]) for f in document["findings"]} == {
        ("HT-ERR-001", "HT-ERR-001|name=the send connector's tlscertificatename names no usable certificate", "error"),
        ("HT-LOG-001", "HT-LOG-001|server=ex2016|connector=default frontend ex2016|name=invalidtoken", "error"),
        ("HT-LOG-001", "HT-LOG-001|server=excas1|connector=default frontend excas1|name=socketerror", "error"),
        ("HT-LOG-001", "HT-LOG-001|server=exmbx1|connector=ausgehend zu office 365 (übergang)|name=unknowncredentials",
         "error"),
        ("HT-LOG-002", "HT-LOG-002|server=ex2016|connector=default frontend ex2016|name=algorithmmismatch", "warning"),
        ("HT-LOG-005", "HT-LOG-005|name=550 5.9.99 quux.unheard; something nobody has catalogued", "warning")}
    [sent] = [s for s in document["records"]["smtp_sessions"] if s["certificate_sent"] and s["log_type"] == "send"]
    assert sent["certificate_sent"]["thumbprint"] == "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
    text = run_cli("check", str(LOGS), "--now", "2026-11-05T00:00", "--width", "200")
    assert text.out.startswith("hybridtls check: 5 files, 0 certificate records, 0 message trace entries, "
                               "11 protocol-log sessions, 4 tracking-log events\n")
    html = run_cli("check", str(LOGS), "--now", "2026-11-05T00:00", "--format", "html")
    assert "11 protocol-log session(s), 4 tracking-log event(s)" in html.out


def test_get_message_tracking_log_format_list() -> None:
    """Records separated only by the repeating RunspaceId line; a DEFER's RecipientStatus becomes a delivery error
    (the folder names the server), the RECEIVE builds nothing."""
    evidence = load_evidence([str(FIXTURES / "tracking" / "Get-MessageTrackingLog.txt")])
    [error] = evidence.delivery_errors
    assert (error.source.line, error.origin, error.server) == (16, "message tracking log tracking", "tracking")
    assert error.text.startswith('451 4.4.0 Primary target IP address responded with: "454 4.7.5') and not evidence.skipped
