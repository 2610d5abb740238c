"""Inputs that are not what they claim: FIFOs, devices, files over the size limit, given directly, through a
folder or through an option. Each is one line naming the file and why, never a hang or a MemoryError."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import CASES, CliRun, run_cli


def run_bounded(*argv: str) -> CliRun:
    """run_cli in a thread: a read that blocks fails the test instead of hanging the suite."""
    done: list[CliRun] = []
    worker = threading.Thread(target=lambda: done.append(run_cli(*argv)), daemon=True)
    worker.start()
    worker.join(30)
    assert done, f"hybridtls {' '.join(argv)} did not finish: a read blocked"
    return done[0]


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "evidence" / "excas1" / "pipe.txt"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    return path


def test_a_fifo_in_a_folder_is_skipped_with_a_note(fifo: Path) -> None:
    (fifo.parent / "Get-ExchangeCertificate.txt").write_bytes(
        (CASES / "founding-incident" / "excas1" / "Get-ExchangeCertificate.txt").read_bytes())
    run = run_bounded("check", str(fifo.parent.parent), "--format", "json", "--now", "2016-02-20")
    assert run.code == 1 and "HT-ROOT-001" in run.out
    assert f"{fifo}: skipped: a FIFO, not a regular file" in run.err


def test_a_fifo_named_directly_is_one_error_line(fifo: Path) -> None:
    run = run_bounded("check", str(fifo))
    assert run.code == 2 and f"hybridtls: error: {fifo}: the file is a FIFO, not a regular file; not read" in run.err
    assert "Traceback" not in run.err and "internal error" not in run.err


@pytest.mark.parametrize("argv", [
    ["cert", "/dev/zero"],
    ["check", str(CASES / "founding-incident"), "--trust", "/dev/zero"],
    ["plan", "--new-cert", "/dev/zero"],
])
def test_a_device_is_refused_wherever_it_is_given(argv: list[str]) -> None:
    run = run_bounded(*argv)
    assert "/dev/zero: the file is a device, not a regular file; not read" in run.err
    assert "MemoryError" not in run.err and "internal error" not in run.err


def test_a_link_to_a_device_inside_a_folder_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "c.txt").write_bytes((CASES / "founding-incident" / "excas1" / "Get-ExchangeCertificate.txt").read_bytes())
    run = run_bounded("check", str(folder), "--now", "2016-02-20", "--width", "400")
    assert "zero.txt: skipped: a device, not a regular file" in run.out and "HT-ROOT-001" in run.out


def test_the_password_file_must_be_a_small_regular_file(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from factory import issue, name, rsa_key

    leaf = issue(name("mail.contoso.com"), dns=("mail.contoso.com",), key=rsa_key(slot=3))
    pfx = tmp_path / "new.pfx"
    pfx.write_bytes(pkcs12.serialize_key_and_certificates(b"x", leaf.key, leaf.cert, None, BestAvailableEncryption(b"pw")))
    run = run_bounded("cert", str(pfx), "--password-file", "/dev/zero")
    assert run.code == 2 and "/dev/zero: the --password-file is a device, not a regular file" in run.err
    secret = tmp_path / "password.txt"
    secret.write_bytes(b"pw\r\nignored second line\n")
    assert run_bounded("cert", str(pfx), "--password-file", str(secret), "--format", "json").code in (0, 1)


def test_files_over_the_size_limit_say_which_limit_and_how_to_raise_it(tmp_path: Path) -> None:
    evidence = tmp_path / "big.txt"
    evidence.write_bytes((CASES / "founding-incident" / "excas1" / "Get-ExchangeCertificate.txt").read_bytes())
    size = evidence.stat().st_size
    run = run_bounded("check", str(evidence), "--max-file-size", str(size - 1))
    assert run.code == 2
    assert f"{evidence}: the file is {size:,} bytes, over the {size - 1:,}-byte limit; not read" in run.err
    assert "hint: raise the limit with --max-file-size BYTES" in run.err
    assert run_bounded("check", str(evidence), "--max-file-size", str(size), "--now", "2016-02-20").code == 1
    run = run_bounded("check", str(evidence), "--max-file-size", "lots")
    assert run.code == 2 and "'lots' is not a size such as 300000000, 512M or 2G" in run.err


def test_a_targets_file_that_is_a_device_is_one_line(tmp_path: Path) -> None:
    run = run_bounded("probe", "--targets-file", "/dev/zero")
    assert run.code == 2 and "/dev/zero: the --targets-file is a device, not a regular file; not read" in run.err


def test_a_raw_data_byte_list_with_a_value_above_255_is_one_line(tmp_path: Path) -> None:
    listing = tmp_path / "raw.txt"
    listing.write_text("48\n130\n3\n999\n" + "1\n" * 40)
    run = run_bounded("cert", str(listing))
    assert run.code == 2 and f"{listing}: a RawData byte list holds 999, not a byte (0-255)" in run.err
    listing.write_text("48\n130\n" + "7" * 5000 + "\n" + "1\n" * 40)
    run = run_bounded("cert", str(listing))
    assert run.code == 2 and run.err.startswith(f"hybridtls: error: {listing}: ") and "internal error" not in run.err


def test_plan_opens_a_pfx_among_the_evidence_with_the_password_file(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
    from factory import issue, name, rsa_key

    evidence = tmp_path / "evidence"
    evidence.mkdir()
    current = issue(name("mail.contoso.com"), dns=("mail.contoso.com",), key=rsa_key(slot=3))
    (evidence / "current.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", current.key, current.cert, None, BestAvailableEncryption(b"s3cret")))
    new = tmp_path / "new.cer"
    new.write_bytes(issue(name("mail.contoso.com"), dns=("mail.contoso.com",), key=rsa_key(slot=4)).der)
    secret = tmp_path / "password.txt"
    secret.write_text("s3cret\n")
    without = run_bounded("plan", "--new-cert", str(new), str(evidence))
    assert "current.pfx: the PFX is protected by a password" in without.err
    run = run_bounded("plan", "--new-cert", str(new), str(evidence), "--password-file", str(secret))
    assert "current.pfx" not in run.err, run.err


def test_a_readme_or_a_script_in_an_evidence_folder_is_passed_over_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    (folder / "excas1").mkdir(parents=True)
    (folder / "excas1" / "Get-ExchangeCertificate.txt").write_bytes(
        (CASES / "founding-incident" / "excas1" / "Get-ExchangeCertificate.txt").read_bytes())
    (folder / "README.md").write_text("# How we collected this\n\nRan the script below on each server.\n")
    (folder / "collect.ps1").write_text("Get-ExchangeCertificate | Format-List * | Out-File c.txt -Width 4096\n")
    run = run_bounded("check", str(folder), "--format", "json", "--now", "2016-02-20")
    assert run.code == 1 and "HT-ROOT-001" in run.out  # the finding, not an unreadable file
    assert "README.md: skipped:" in run.err and "could not" not in run.err
    assert '"problems": []' in run.out


def test_a_huge_value_is_shown_as_its_start_and_a_count_in_every_format(tmp_path: Path) -> None:
    lines = ["", "Received         : 2/18/2016 11:23:21 AM",
             "SenderAddress    : Office365user@domain.com", *(["                   continued"] * 30_000),
             "RecipientAddress : onpremuser@domain.com", "Subject          : test", "Status           : Pending",
             "MessageTraceId   : 0c5e4a8f-8d9e-4b1a-9b7e-0a1b2c3d4e5f", ""]
    evidence = tmp_path / "Get-MessageTrace.txt"
    evidence.write_text("\n".join(lines))
    for fmt in ("terminal", "markdown", "html"):
        run = run_bounded("check", str(evidence), "--format", fmt, "--width", "120", "--now", "2016-02-20")
        assert "HT-TRACE-001" in run.out
        assert len(run.out) < 200_000, (fmt, len(run.out))  # the value is 870,000 characters
        assert "more characters not shown" in run.out
    document = run_bounded("check", str(evidence), "--format", "json", "--now", "2016-02-20").out
    assert document.count("continued") >= 30_000  # the JSON report keeps the value whole


def test_a_reader_failing_on_one_file_loses_no_other_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hybridtls.evidence import structured

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("a bug in a reader")

    monkeypatch.setattr(structured, "iter_csv", broken)
    folder = tmp_path / "evidence"
    (folder / "excas1").mkdir(parents=True)
    (folder / "excas1" / "Get-ExchangeCertificate.txt").write_bytes(
        (CASES / "founding-incident" / "excas1" / "Get-ExchangeCertificate.txt").read_bytes())
    (folder / "connectors.csv").write_text('"Name","Enabled"\n"Outbound to Office 365","True"\n')
    run = run_bounded("check", str(folder), "--format", "json", "--now", "2016-02-20")
    assert run.code == 1 and "HT-ROOT-001" in run.out and "internal error" not in run.err
    assert "connectors.csv: not read: hybridtls failed on it (ValueError: a bug in a reader)" in run.err


THUMB = "A" * 40


@pytest.mark.parametrize(("name", "content", "said"), [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "JSON nested too deeply to be ConvertTo-Json output"),
    ("bigint.json", '[{"Thumbprint":"' + THUMB + '","RootCAType":' + "9" * 5000 + ',"Subject":"CN=x"}]',
     "a number of 5,000 digits: more than any Exchange property holds"),
    ("bigkey.txt", f"\nThumbprint    : {THUMB}\nSubject       : CN=x\nRootCAType    : Registry\n"
                   f"PublicKeySize : {'7' * 5000}\n\n", "PublicKeySize is a number of 5,000 digits"),
    ("bigkey.csv", f'"Thumbprint","RootCAType","PublicKeySize","Subject"\n"{THUMB}","3","{"9" * 5000}","CN=x"\n',
     "PublicKeySize is a number of 5,000 digits"),
    ("dates.txt", f"\nThumbprint : {THUMB}\nSubject    : CN=x\nRootCAType : Registry\n"
                  "NotAfter   : 9999-12-31 23:59:59 -14:00\n\n", "'9999-12-31 23:59:59 -14:00' is out of the range of dates"),
])
def test_numbers_nesting_and_dates_past_any_real_value_are_one_line(tmp_path: Path, name: str, content: str,
                                                                    said: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    run = run_bounded("check", str(path), "--format", "json")
    assert "internal error" not in run.err and "Traceback" not in run.err
    assert said in run.err, run.err


def test_an_unterminated_json_string_costs_no_memory_per_character(tmp_path: Path) -> None:
    """A saved report cut inside a 300,000-character string: the scan that looks for where its JSON ends once held
    ~130 bytes of regex state per character (found by bench/fuzz.py: 40 MB for a 0.34 MB file)."""
    import tracemalloc

    from hybridtls.evidence.loader import load_evidence

    path = tmp_path / "cut.json"
    path.write_text('{"schema_version": 1, "tool": {"name": "hybridtls"}, "probes": [{"label": "' + "a" * 300_000
                    + '\n}]}')
    tracemalloc.start()
    try:
        evidence = load_evidence([str(path)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert evidence.problems and peak < 10 * path.stat().st_size
