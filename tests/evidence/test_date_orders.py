"""Day/month order while records are built as they are read: an order a file has proven is used for the records
after it, and undone when the same file later proves the other order too."""

from __future__ import annotations

from pathlib import Path

from hybridtls.evidence.loader import load_evidence


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
    messages = [n.message for n in evidence.notices]
    assert messages[0].startswith("the file mixes day-first and month-first dates")
    assert messages[1].startswith("dates on lines 5, 11, 10, 17 could be day-first or month-first")


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
