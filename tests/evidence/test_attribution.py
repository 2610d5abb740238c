"""Which server records belong to when they do not say: a folder only when its name can be a server's, marked as
such; ``--server`` when the admin knows; otherwise nobody's, and fixes say ``<ServerName>``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import certificate, format_list, run_cli
from hypothesis import given
from hypothesis import strategies as st

import hybridtls
from hybridtls.errors import UsageError
from hybridtls.evidence.attribution import GENERIC_WORDS, could_be_server, server_assignments, server_from_path
from hybridtls.model import ServerBasis


@pytest.mark.parametrize(("display", "server"), [
    ("logs/EXCAS1/RECV2026.LOG", "EXCAS1"),
    ("C:\\Program Files\\Microsoft\\Exchange Server\\V15\\TransportRoles\\Logs\\FrontEnd\\ProtocolLog\\SmtpReceive\\R.LOG",
     None),
    ("EXMBX1\\TransportRoles\\Logs\\Hub\\ProtocolLog\\SmtpSend\\SEND1.LOG", "EXMBX1"),
    ("SEND1.LOG", None),
    ("cases/excas1.contoso.com/certs.txt", "excas1.contoso.com"),
    ("corpus/certs.txt", None),
    ("exchangecertificate/certs.txt", None),
    ("excas1-before/certs.txt", None),
    ("Exchange Online/trace.csv", None),
    ("after-fix/certs.txt", None),
    ("a-very-long-folder-name/certs.txt", None),  # 23 characters: no Windows computer name is that long
    ("2026/certs.txt", None),
    ("EXCAS1/Get-ExchangeCertificate.txt", "EXCAS1"),
])
def test_server_from_path(display: str, server: str | None) -> None:
    assert server_from_path(display) == server


@given(st.sampled_from(sorted(GENERIC_WORDS)), st.sampled_from(["", "-1", "_2026", " old"]))
def test_no_generic_word_is_a_server(word: str, tail: str) -> None:
    assert not could_be_server(word + tail)


def _certs(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "certs.txt").write_text(format_list(certificate(RootCAType="Registry")))
    return folder


def test_a_folder_named_for_its_contents_names_no_server_and_the_fix_says_servername(tmp_path: Path) -> None:
    _certs(tmp_path / "exchangecertificate")
    report = hybridtls.check(tmp_path)
    assert report.servers == []
    fixes = "\n".join(f.remediation for f in report.findings if f.check_id == "HT-ROOT-001")
    assert "<ServerName>" in fixes and "exchangecertificate" not in fixes


def test_a_server_from_a_folder_name_is_marked_in_every_format(tmp_path: Path) -> None:
    _certs(tmp_path / "excas1")
    report = hybridtls.check(tmp_path)
    assert report.servers == ["excas1"]
    assert {c.server.basis for c in report.evidence.certificates if c.server} == {ServerBasis.FOLDER}
    for rendered in (report.to_markdown(), report.to_html(), report.to_json()):
        assert "taken from the folders the files are in" in rendered
    document = json.loads(report.to_json())
    assert document["records"]["certificates"][0]["server"] == {"name": "excas1", "basis": "folder name"}


def test_server_option_assigns_records_that_name_no_server(tmp_path: Path) -> None:
    _certs(tmp_path / "corpus")
    run = run_cli("check", str(tmp_path), "--server", "EXCAS2", "--format", "json")
    document = json.loads(run.out)
    assert document["servers"] == ["EXCAS2"]
    assert document["records"]["certificates"][0]["server"]["basis"] == "--server given to hybridtls"
    assert "'EXCAS2'" in "\n".join(f["remediation"] for f in document["findings"])


def test_server_option_by_path_and_evidence_that_names_its_server_keeps_it(tmp_path: Path) -> None:
    first = _certs(tmp_path / "paste1")
    second = tmp_path / "paste2"
    second.mkdir()
    (second / "certs.txt").write_text("[PS] C:\\>Get-ExchangeCertificate -Server exmbx1 | fl\n\n"
                                      + format_list(certificate(RootCAType="ThirdParty")))
    report = hybridtls.check([first, second], servers=[f"{first}=excas1", "excas9"])
    named = sorted((c.server.name, c.server.basis) for c in report.evidence.certificates if c.server)
    assert named == [("excas1", ServerBasis.GIVEN), ("exmbx1", ServerBasis.COMMAND_LINE)]


@pytest.mark.parametrize("value", ["bad name", "", "a" * 16, "123", "x=", "excas1;rm"])
def test_server_option_refuses_what_cannot_be_a_server(value: str) -> None:
    with pytest.raises(UsageError):
        server_assignments([value])


def test_two_servers_without_paths_are_refused() -> None:
    with pytest.raises(UsageError, match="PATH=NAME"):
        server_assignments(["excas1", "excas2"])


def test_an_exchange_shell_object_s_computer_name_is_the_shell_s_not_the_server_asked(tmp_path: Path) -> None:
    """In the Exchange Management Shell, `Get-ExchangeCertificate -Server EXMBX1 | fl *` carries the PSComputerName
    of the server the shell is connected to: the prompt's -Server (or the folder) names the server."""
    record = certificate(RootCAType="ThirdParty", PSComputerName="excas1.contoso.local",
                         RunspaceId="6c1f0e2a-5b3c-4d8e-9f10-1a2b3c4d5e6f")
    (tmp_path / "EXMBX1").mkdir()
    (tmp_path / "EXMBX1" / "certs.txt").write_text(format_list(record))
    (tmp_path / "paste.txt").write_text("[PS] C:\\>Get-ExchangeCertificate -Server EXMBX2 | fl *\n" + format_list(record))
    (tmp_path / "remote.txt").write_text(format_list(certificate(PSComputerName="EXCAS3")))  # Invoke-Command's
    named = sorted((Path(c.source.path).name, c.server.name, c.server.basis.value)
                   for c in hybridtls.check(tmp_path).evidence.certificates if c.server)
    assert named == [("certs.txt", "EXMBX1", "folder name"),
                     ("paste.txt", "EXMBX2", "-Server on the command line in the file"),
                     ("remote.txt", "EXCAS3", "PSComputerName property")]
