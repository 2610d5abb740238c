"""Day/month order while records are built as they are read: an order a file has proven is used for the records
after it, and undone when the same file later proves the other order too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hybridtls.evidence.dates import DateOrder
from hybridtls.evidence.loader import load_evidence
from hybridtls.model import DateReadings


def _certificate(thumbprint: str, not_after: str, not_before: str) -> str:
    return (f"Thumbprint : {thumbprint}\nServices   : SMTP\nRootCAType : Registry\nNotAfter   : {not_after}\n"
            f"NotBefore  : {not_before}\n")


def test_an_order_the_file_goes_on_to_contradict_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "ex1" / "certs.txt"
    path.parent.mkdir()
    path.write_text("\n".join([_certificate("A" * 40, "2/18/2016 10:00 AM", "3/4/2015"),  # month first
                               _certificate("B" * 40, "3/4/2016", "5/6/2015 1:00 PM"),  # either
                               _certificate("C" * 40, "18/02/2016 10:00:00", "7/8/2015")]))  # day first
    evidence = load_evidence([str(path)])
    first, second, third = evidence.certificates
    assert first.not_after is not None and (first.not_after.month, first.not_after.day) == (2, 18)
    assert third.not_after is not None and (third.not_after.month, third.not_after.day) == (2, 18)
    assert second.not_after is None and second.not_before is None and first.not_before is None
    # nothing settles them, so both readings are kept, for the checks to judge where they agree
    assert second.not_after_readings == DateReadings(text="3/4/2016", day_first=datetime(2016, 4, 3),
                                                     month_first=datetime(2016, 3, 4))
    assert first.not_before_readings == DateReadings(text="3/4/2015", day_first=datetime(2015, 4, 3),
                                                     month_first=datetime(2015, 3, 4))
    messages = [n.message for n in evidence.notices]
    assert messages[0] == "the file mixes day-first and month-first dates; it cannot settle ambiguous ones"
    assert messages[1] == ("dates on lines 5, 11, 10, 17 could be day-first or month-first and nothing in the evidence "
                           "settles it; both readings of each are kept: the expiry and timing checks judge such a "
                           "date only where both readings give the same verdict, and list the dates they cannot judge")


def test_records_before_the_proof_are_read_in_the_order_proven_after_them(tmp_path: Path) -> None:
    path = tmp_path / "ex1" / "certs.txt"
    path.parent.mkdir()
    path.write_text("\n".join([_certificate("A" * 40, "2/3/2016 10:00 AM", "3/4/2015"),
                               _certificate("B" * 40, "3/14/2016", "5/6/2015 1:00 PM")]))
    evidence = load_evidence([str(path)])
    first, second = evidence.certificates
    assert first.not_after is not None and (first.not_after.month, first.not_after.day) == (2, 3)
    assert second.not_before is not None and (second.not_before.month, second.not_before.day) == (5, 6)
    assert [n.message for n in evidence.notices if "folder" not in n.message] == []  # nothing about dates


def test_a_date_read_once_an_order_is_known_keeps_no_readings(tmp_path: Path) -> None:
    path = tmp_path / "ex1" / "certs.txt"
    path.parent.mkdir()
    path.write_text(_certificate("A" * 40, "3/4/2016", "5/6/2015 1:00 PM"))
    [cert] = load_evidence([str(path)], DateOrder.DMY).certificates
    assert (cert.not_after, cert.not_before) == (datetime(2016, 4, 3), datetime(2015, 6, 5, 13))
    assert cert.not_after_readings is cert.not_before_readings is None


def test_an_ambiguous_trace_date_is_not_used_and_said_apart_from_kept_certificate_dates(tmp_path: Path) -> None:
    path = tmp_path / "ex1" / "evidence.txt"
    path.parent.mkdir()
    path.write_text(_certificate("A" * 40, "3/4/2016", "5/6/2015 1:00 PM") + "\n\nReceived         : 2/3/2016 11:23:21 AM\n"
                    "SenderAddress    : a@contoso.com\nRecipientAddress : b@contoso.com\nStatus           : Pending\n"
                    "MessageTraceId   : 0c5e4a8f-8d9e-4b1a-9b7e-0a1b2c3d4e5f\n")
    evidence = load_evidence([str(path)])
    [entry] = evidence.trace_entries
    assert entry.received is None  # a trace row has no place for two readings: not used, and said so
    dated = [n for n in evidence.notices if "folder" not in n.message]
    assert [n.message.split("; ", 1)[1] for n in dated] == [
        "both readings of each are kept: the expiry and timing checks judge such a date only where both readings "
        "give the same verdict, and list the dates they cannot judge",
        "they are not used (timing checks skip them)"]
    assert [n.source.line for n in dated] == [5, 8]  # NotBefore, the first met; Received
