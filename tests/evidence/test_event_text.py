"""Windows event text: Event Viewer copies in seven languages (whole or flattened onto one line), Get-WinEvent and
Get-EventLog Format-List output, a description alone; files of other kinds are left to their readers."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, certificate, format_list
from hypothesis import given
from hypothesis import strategies as st

from hybridtls.errors import EvidenceError
from hybridtls.evidence.events import LABELS, EventTextReader, EventViewerSavedReader
from hybridtls.evidence.interface import EvidenceFile
from hybridtls.evidence.loader import load_evidence
from hybridtls.evidence.registry import read_records, reader_for
from hybridtls.model import EventLayout, EventLevel, Notice, WindowsEvent

EVENTS = FIXTURES / "events"
GOLDEN = Path(__file__).parents[1] / "golden"
UTC = timezone.utc
D12014 = "Microsoft Exchange could not find a certificate that contains the domain name mail.contoso.com in the"


def read(name: str, text: str | None = None) -> list[object]:
    data = (text.encode() if text is not None else (EVENTS / name).read_bytes())
    return list(read_records(EvidenceFile(name, data)))


def events(name: str, text: str | None = None) -> list[WindowsEvent]:
    return [r for r in read(name, text) if isinstance(r, WindowsEvent)]


def summary(event: WindowsEvent) -> tuple[object, ...]:
    return (event.source.line, event.layout, event.language, event.provider, event.event_id, event.level,
            event.time, event.computer, event.task_category)


FRONTEND, TRANSPORT = "MSExchangeFrontEndTransport", "MSExchangeTransport"


@pytest.mark.parametrize(("name", "expected"), [
    ("en-copy.txt", [
        (1, EventLayout.EVENT_VIEWER, "en", FRONTEND, 12014, EventLevel.ERROR, datetime(2016, 2, 18, 0, 20, 5, tzinfo=UTC),
         "EXCAS1.contoso.com", "TransportService"),
        (33, EventLayout.EVENT_VIEWER, "en", FRONTEND, 1035, EventLevel.WARNING, datetime(2016, 2, 18, 11, 31, 47),
         "EXCAS1.contoso.com", "SmtpReceive"),
        (44, EventLayout.EVENT_VIEWER, "en", TRANSPORT, 12018, EventLevel.WARNING, datetime(2016, 2, 18, 14, 2, 11),
         "EXMBX1.contoso.com", "TransportService")]),
    ("de-copy.txt", [(1, EventLayout.EVENT_VIEWER, "de", FRONTEND, 12014, EventLevel.ERROR,
                      datetime(2016, 2, 18, 11, 20, 5), "EXCAS1.contoso.com", "TransportService")]),
    ("fr-copy.txt", [(1, EventLayout.EVENT_VIEWER, "fr", TRANSPORT, 12016, EventLevel.ERROR,
                      datetime(2016, 2, 18, 14, 2, 11), "EXMBX1.contoso.com", "TransportService")]),
    *[(f"{language}-copy.txt", [(1, EventLayout.EVENT_VIEWER, language, FRONTEND, 12014, EventLevel.ERROR,
                                 datetime(2016, 2, 18, 11, 20, 5), "EXCAS1.contoso.com", "TransportService")])
      for language in ("es", "ru", "zh", "ja")],
    ("get-winevent-fl.txt", [
        (4, EventLayout.GET_WINEVENT, None, TRANSPORT, 12016, None, datetime(2016, 2, 21, 6, 0, 1), "EXMBX1", None),
        (11, EventLayout.GET_WINEVENT, None, TRANSPORT, 12014, None, datetime(2016, 2, 20, 21, 14, 38), "EXMBX1", None)]),
    ("get-winevent-fl-star.txt", [
        (4, EventLayout.GET_WINEVENT, None, TRANSPORT, 12016, EventLevel.ERROR, datetime(2016, 2, 21, 6, 0, 1),
         "EXMBX1.contoso.com", "TransportService"),
        (34, EventLayout.GET_WINEVENT, None, FRONTEND, 1035, EventLevel.WARNING, datetime(2016, 2, 21, 6, 0, 2),
         "EXCAS1.contoso.com", None)]),
    ("get-eventlog-fl.txt", [
        (4, EventLayout.GET_EVENTLOG, None, FRONTEND, 1035, EventLevel.WARNING, datetime(2016, 2, 18, 10, 5, 12), None,
         "SmtpReceive"),
        (18, EventLayout.GET_EVENTLOG, None, FRONTEND, 12014, EventLevel.ERROR, datetime(2016, 2, 18, 10, 2, 40), None,
         "TransportService")]),
    ("description-only.txt", [(3, EventLayout.DESCRIPTION, None, None, 12014, None, None, None, None)]),
    ("wevtutil.txt", [
        (3, EventLayout.WEVTUTIL, "en", FRONTEND, 12014, EventLevel.ERROR, datetime(2016, 2, 18, 11, 20, 5),
         "EXCAS1.contoso.com", "TransportService"),
        (18, EventLayout.WEVTUTIL, "en", TRANSPORT, 12016, EventLevel.ERROR, datetime(2016, 2, 21, 6, 0, 1),
         "EXMBX1.contoso.com", "TransportService")]),
])
def test_each_layout_and_language(name: str, expected: list[tuple[object, ...]]) -> None:
    assert isinstance(reader_for(EvidenceFile(name, (EVENTS / name).read_bytes())), EventTextReader)
    found = events(name)
    assert [summary(e) for e in found] == expected
    assert all(e.description and "  " not in e.description for e in found)


def test_the_description_is_whole_whichever_way_it_was_wrapped() -> None:
    texts = {name: [e.description for e in events(name) if e.event_id == 12014]
             for name in ("en-copy.txt", "get-eventlog-fl.txt", "description-only.txt", "es-copy.txt")}
    assert len({t for found in texts.values() for t in found}) == 1
    [_, wrapped] = events("get-winevent-fl.txt")  # a blank line inside the message, as forum pastes have
    assert "C=AU in the personal store on the local computer. Therefore" in wrapped.description
    assert wrapped.description.endswith("has access to the certificate key.")
    [alone] = events("description-only.txt")
    assert alone.event_id_from_wording and alone.description.startswith(D12014)


def test_a_file_mixing_prose_and_events_reads_both_and_says_what_it_passed_over() -> None:
    evidence = load_evidence([str(EVENTS / "mixed.txt")])
    assert [(e.event_id, e.source.line) for e in evidence.events] == [(12014, 3)]
    [cert] = evidence.certificates
    assert cert.root_ca_type is not None and cert.root_ca_type.value == "Registry" and cert.server is not None
    passed = [n.message for n in evidence.notices if "passed over" in n.message]
    assert passed == ["lines 1, 34 are neither Windows events nor PowerShell output; passed over"]
    assert [s.properties for s in evidence.skipped] == [("And the certificate",)]  # prose the console reader took


def test_a_description_pasted_alone_says_what_was_around_it() -> None:
    records = read("description-only.txt")
    assert [type(r).__name__ for r in records] == ["WindowsEvent", "Notice"]
    assert records[1] == Notice(source=records[0].source.__class__(path="description-only.txt", line=1),  # type: ignore[attr-defined]
                                message="lines 1, 11 are neither Windows events nor PowerShell output; passed over")


@pytest.mark.parametrize("path", sorted(p for p in (FIXTURES / "cases").rglob("*") if p.is_file())
                         + sorted(p for p in (FIXTURES / "plan").rglob("*") if p.is_file()), ids=str)
def test_other_evidence_is_not_taken(path: Path) -> None:
    assert not isinstance(reader_for(EvidenceFile(path.name, path.read_bytes())), (EventTextReader, EventViewerSavedReader))


@pytest.mark.parametrize("text", [
    format_list(certificate()),
    format_list({"Identity": "EXMBX1\\7", "NextHopDomain": "contoso.mail.onmicrosoft.com",
                 "LastError": "451 5.7.3 STARTTLS is required to send mail", "MessageCount": "3"}),
    "Source : somewhere\nDate : today\n",
])
def test_powershell_objects_stay_with_the_console_reader(text: str) -> None:
    assert not isinstance(reader_for(EvidenceFile("x.txt", text.encode())), EventTextReader)


def test_an_event_file_with_no_event_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError) as caught:
        list(EventTextReader().read(EvidenceFile("e.txt", b"only prose here\n")))
    assert caught.value.message == "no Windows events found" and caught.value.path == "e.txt"


def test_a_date_that_needs_the_order_is_said_not_guessed() -> None:
    text = (EVENTS / "en-copy.txt").read_text(encoding="utf-8").split("\n\n")[1].replace("2/18/2016", "2/12/2016")
    records = read("ambiguous.txt", text)
    [first, second] = [r for r in records if isinstance(r, WindowsEvent)]
    assert first.time is None and second.time is None
    notes = [r for r in records if isinstance(r, Notice)]
    assert [n.source.line for n in notes] == [3, 14] and "could be day-first or month-first" in notes[0].message


# --- the golden record -----------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return getattr(value, "value", value)


def test_golden_records() -> None:
    found = _plain(events("en-copy.txt"))
    path = GOLDEN / "events-en-copy.json"
    text = json.dumps(found, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("HYBRIDTLS_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- properties --------------------------------------------------------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789.,-()[]<>=/'", min_size=1, max_size=12)
_EVENT = st.fixed_dictionaries({
    "source": st.sampled_from([FRONTEND, TRANSPORT, "MSExchange OAuth", "Schannel"]),
    "id": st.integers(0, 65535), "level": st.sampled_from(["Error", "Warning", "Information"]),
    "computer": st.sampled_from(["EXCAS1.contoso.com", "EXMBX1", "ex-02.corp.contoso.com"]),
    "words": st.lists(_WORD, min_size=1, max_size=40), "blank": st.booleans(), "language": st.sampled_from(sorted(LABELS)),
})
_LEVEL_WORDS = {"en": ("Error", "Warning", "Information"), "de": ("Fehler", "Warnung", "Informationen"),
                "fr": ("Erreur", "Avertissement", "Information"), "es": ("Error", "Advertencia", "Información"),
                "ru": ("Ошибка", "Предупреждение", "Сведения"), "zh": ("错误", "警告", "信息"), "ja": ("エラー", "警告", "情報")}


def _copy(event: dict[str, Any]) -> str:
    labels = {name: labels[0] for name, labels in LABELS[event["language"]].items()}
    level = _LEVEL_WORDS[event["language"]][("Error", "Warning", "Information").index(event["level"])]
    header = [("log", "Application"), ("source", event["source"]), ("date", "2/18/2016 11:20:05 AM"),
              ("id", str(event["id"])), ("task", "TransportService"), ("level", level), ("keywords", "Classic"),
              ("user", "N/A"), ("computer", event["computer"])]
    lines = [f"{labels[name]}:".ljust(15) + value for name, value in header]
    words = event["words"]
    lines += [f"{labels['description']}:", " ".join(words[: len(words) // 2 + 1])]
    if words[len(words) // 2 + 1:]:
        lines += ([""] if event["blank"] else []) + [" ".join(words[len(words) // 2 + 1:])]
    return "\n".join(lines)


def _same(found: list[WindowsEvent]) -> list[WindowsEvent]:
    return [dataclasses.replace(e, source=e.source.__class__(path=""), field_lines={}, layout=EventLayout.EVENT_VIEWER)
            for e in found]


@given(st.lists(_EVENT, min_size=1, max_size=4), st.sampled_from(["\n", "\n\n"]))
def test_the_flattened_copy_reads_as_the_copy(generated: list[dict[str, Any]], between: str) -> None:
    text = between.join(_copy(e) for e in generated)
    copied = events("copy.txt", text)
    flattened = events("flat.txt", " ".join(text.split()))
    assert [(e.event_id, e.provider, e.computer) for e in copied] == [
        (e["id"], e["source"], e["computer"]) for e in generated]
    assert _same(flattened) == _same(copied)
    assert {e.layout for e in flattened} == {EventLayout.FLATTENED}


@given(st.one_of(st.binary(max_size=3000),
                 st.text(alphabet="Log Name:Source:Event ID:Description:\n <>Event Xml</>TimeCreated:Id:Message 0123",
                         max_size=600).map(str.encode)))
def test_any_bytes_raise_only_evidence_error(data: bytes) -> None:
    try:
        list(EventTextReader().read(EvidenceFile("e.txt", data)))
    except EvidenceError as exc:
        assert exc.path == "e.txt" and "\n" not in exc.message


# --- the same events as objects: ConvertTo-Json and Export-Csv -----------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("get-winevent.json", (2, EventLayout.GET_WINEVENT, None, FRONTEND, 12014, EventLevel.ERROR,
                           datetime(2016, 2, 18, 0, 20, 5, tzinfo=UTC), "EXCAS1.contoso.com", "TransportService")),
    ("get-eventlog.csv", (3, EventLayout.GET_EVENTLOG, None, TRANSPORT, 12016, EventLevel.ERROR,
                          datetime(2016, 2, 21, 6, 0, 1), "EXMBX1.contoso.com", "TransportService")),
])
def test_exported_events_are_record_kinds(name: str, expected: tuple[object, ...]) -> None:
    assert not isinstance(reader_for(EvidenceFile(name, (EVENTS / name).read_bytes())), EventTextReader)
    evidence = load_evidence([str(EVENTS / name)])
    [event] = evidence.events
    assert summary(event)[1:] == expected[1:] and event.source.line == expected[0]
    assert not evidence.skipped and not evidence.notices


def test_json_enums_as_numbers(tmp_path: Path) -> None:
    (tmp_path / "events.json").write_text(json.dumps([
        {"Source": "MSExchangeTransport", "InstanceId": 3221237488, "EntryType": 2, "Message": "a",
         "TimeGenerated": "/Date(1455996001000)/"},
        {"ProviderName": "MSExchangeTransport", "Id": 12018, "Level": 3, "Message": "b", "TimeCreated": "2016-02-21T06:00:01Z"},
    ]), encoding="utf-8")
    found = load_evidence([str(tmp_path)]).events
    assert [(e.event_id, e.level, e.time) for e in found] == [
        (12016, EventLevel.WARNING, datetime(2016, 2, 20, 19, 20, 1, tzinfo=UTC)),
        (12018, EventLevel.WARNING, datetime(2016, 2, 21, 6, 0, 1, tzinfo=UTC))]


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.txt")))
def test_any_chunking_reads_the_same(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Lines are split a piece of the text at a time; however small the pieces, the records are the same."""
    whole = read(name)
    for size in (1, 7, 64):
        monkeypatch.setattr("hybridtls.evidence.events._PIECE", size)
        assert read(name) == whole


def test_a_header_line_whose_label_is_not_in_the_tables_does_not_end_the_event() -> None:
    text = (EVENTS / "de-copy.txt").read_text(encoding="utf-8").replace("Ebene:", "Vorgang:       Info\nEbene:")
    [event] = events("de.txt", text)
    assert (event.event_id, event.level, event.description[:30]) == (12014, EventLevel.ERROR, "Microsoft Exchange konnte im p")


def test_the_parameters_of_an_event() -> None:
    strings = ("mail.contoso.com", "Default Frontend EXCAS1", "mail.contoso.com")
    assert [e.insertion_strings for e in events("en-copy.txt")] == [strings, (), ()]  # the Event Xml's <Data>
    [unformatted] = events("en-no-message-file.txt")  # Event Viewer without Exchange's message file
    assert unformatted.insertion_strings == strings and unformatted.event_id == 12014
    assert [e.insertion_strings for e in events("flat.txt", " ".join(
        (EVENTS / "en-copy.txt").read_text(encoding="utf-8").split()))] == [strings, (), ()]



# --- Event Viewer's "Save All Events As..." -----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("saved.csv", [(2, EventLayout.SAVED, "en", FRONTEND, 12014, EventLevel.ERROR, datetime(2016, 2, 18, 11, 20, 5), None,
                    "TransportService"),
                   (4, EventLayout.SAVED, "en", FRONTEND, 1035, EventLevel.WARNING, datetime(2016, 2, 18, 11, 31, 47),
                    None, "SmtpReceive")]),
    ("saved-de.txt", [(2, EventLayout.SAVED, "de", FRONTEND, 12014, EventLevel.ERROR, datetime(2016, 2, 18, 11, 20, 5),
                       None, "TransportService")]),
])
def test_saved_events(name: str, expected: list[tuple[object, ...]]) -> None:
    assert isinstance(reader_for(EvidenceFile(name, (EVENTS / name).read_bytes())), EventViewerSavedReader)
    found = events(name)
    assert [summary(e) for e in found] == expected
    assert found[0].description.startswith(D12014) and found[0].description.endswith("access to the certificate key.")


@given(st.binary(max_size=2000), st.sampled_from(["Level,Date and Time,Source,Event ID,Task Category\r\n",
                                                  "Ebene\tDatum und Uhrzeit\tQuelle\tEreignis-ID\tAufgabenkategorie\n"]))
def test_any_bytes_under_a_saved_header_raise_only_evidence_error(data: bytes, header: str) -> None:
    file = EvidenceFile("s.csv", header.encode() + data)
    try:
        assert isinstance(reader_for(file), EventViewerSavedReader)
        list(read_records(file))
    except EvidenceError as exc:
        assert exc.path == "s.csv" and "\n" not in exc.message
