"""The store checks on listings saved from real-shaped servers, and how they turn HT-ROOT-001 from inferred into
proven (or contradicted)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import FIXTURES, judge, triples

STORES = FIXTURES / "stores"
ROOT = "CN=Fabrikam Trust Root R1, O=Fabrikam Trust Ltd, C=GB"
ROOT_THUMBPRINT = "3E1F0A9B8C7D6E5F4A3B2C1D0E9F8A7B6C5D4E3F"
NOW = "2026-11-30T09:00:00"


def test_the_founding_case_proven_by_the_listings() -> None:
    outcomes, findings = judge(STORES, now=NOW)
    assert triples(findings) == {("HT-ROOT-001", "EXCAS1", "error"), ("HT-STORE-003", "EXCAS1", "warning"),
                                 ("HT-STORE-004", "EXMBX1", "warning"), ("HT-STORE-005", "EXMBX1", "info"),
                                 ("HT-STORE-006", None, "warning"), ("HT-STORE-007", "EXCAS1", "error")}
    [root] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert f"Proven by the AuthRoot listing of EXCAS1, which does not hold the root {ROOT}, while its Root listing " \
           "does." in root.message
    cited = [(c.source.path.rsplit("/", 1)[-1], c.source.line, c.text) for c in root.evidence]
    assert cited[:4] == [("Get-ExchangeCertificate.txt", 12, "EXCAS1: RootCAType Registry"),
                         ("AuthRoot.txt", 8, f"EXCAS1: {ROOT} not listed in AuthRoot listing"),
                         ("Root.txt", 13, f"EXCAS1: {ROOT} listed in Root listing"),
                         ("certutil-store-root.txt", 16, f"EXCAS1: {ROOT} listed in Root (.Default) listing")]
    # the fix moves that very root, by thumbprint, from Trusted Root into AuthRoot
    assert f"$root = Get-Item Cert:\\LocalMachine\\Root\\{ROOT_THUMBPRINT}" in root.remediation
    assert "$authRoot.Open('ReadWrite'); $authRoot.Add($root); $authRoot.Close()" in root.remediation
    # RootCAType is there on both servers: the store checks leave the root's placement to HT-ROOT-001
    assert {o for o in ("HT-STORE-001", "HT-STORE-002") if outcomes[o].findings} == set()
    [uneven] = [f for f in findings if f.check_id == "HT-STORE-006"]
    assert "in Third-Party Root Certification Authorities (AuthRoot) on EXMBX1; in Trusted Root Certification " \
           "Authorities only on EXCAS1" in uneven.message
    assert f"Export-Certificate -Cert (Get-Item Cert:\\LocalMachine\\AuthRoot\\{ROOT_THUMBPRINT})" in uneven.remediation


def _estate(tmp_path: Path, *dropped: str) -> Path:
    folder = tmp_path / "stores"
    shutil.copytree(STORES, folder)
    for name in dropped:
        (folder / name).unlink()
    return folder


def test_without_listings_the_finding_says_it_is_inferred(tmp_path: Path) -> None:
    folder = _estate(tmp_path, "EXCAS1/AuthRoot.txt", "EXCAS1/Root.txt", "EXCAS1/certutil-store-root.txt",
                     "EXCAS1/CA.csv")
    _, findings = judge(folder, now=NOW)
    [root] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert "Inferred from RootCAType only: no store listing of EXCAS1 shows the root of its chain." in root.message
    assert "$chain.Build($leaf)" in root.remediation  # the root is not known: Windows' own chain names it


def test_a_root_listing_without_an_authroot_listing_proves_nothing(tmp_path: Path) -> None:
    """Cert:\\LocalMachine\\Root lists AuthRoot's roots too: the root there is no proof of where it sits."""
    _, findings = judge(_estate(tmp_path, "EXCAS1/AuthRoot.txt"), now=NOW)
    [root] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert f"Inferred from RootCAType only: no AuthRoot listing of EXCAS1 says whether the root {ROOT} is a " \
           "third-party root there." in root.message


def test_an_authroot_listing_holding_the_root_contradicts_registry(tmp_path: Path) -> None:
    folder = _estate(tmp_path)
    authroot = folder / "EXCAS1" / "AuthRoot.txt"
    authroot.write_text(authroot.read_text().replace(
        "D4DE20D05E66FC53FE1A50882C78DB2852CAE474  CN=Baltimore CyberTrust Root, OU=CyberTrust, O=Baltimore, C=IE",
        f"{ROOT_THUMBPRINT}  {ROOT}"))
    outcomes, findings = judge(folder, now=NOW)
    [root] = [f for f in findings if f.check_id == "HT-ROOT-001"]
    assert f"Yet the AuthRoot listing of EXCAS1 holds the root {ROOT}" in root.message
    assert not outcomes["HT-STORE-006"].findings  # in AuthRoot everywhere now


def test_without_rootcatype_the_store_check_speaks(tmp_path: Path) -> None:
    folder = _estate(tmp_path)
    exchange = folder / "EXCAS1" / "Get-ExchangeCertificate.txt"
    exchange.write_text(exchange.read_text().replace("RootCAType         : Registry\n", "", 1))
    _, findings = judge(folder, now=NOW)
    assert ("HT-STORE-001", "EXCAS1", "error") in triples(findings)
    assert ("HT-ROOT-001", "EXCAS1", "error") not in triples(findings)
    [store] = [f for f in findings if f.check_id == "HT-STORE-001"]
    assert "the root of CN=mail.contoso.com" in store.message and "is in Trusted Root Certification Authorities " \
           "only" in store.message and "It is in AuthRoot on EXMBX1." in store.message


def test_a_root_missing_everywhere_on_a_server(tmp_path: Path) -> None:
    folder = _estate(tmp_path, "EXCAS1/certutil-store-root.txt")
    root = folder / "EXCAS1" / "Root.txt"
    text = root.read_text()
    root.write_text(text[:text.index("Subject      : CN=Fabrikam")] + text[text.index("Subject      : CN=DigiCert"):])
    exchange = folder / "EXCAS1" / "Get-ExchangeCertificate.txt"
    exchange.write_text(exchange.read_text().replace("RootCAType         : Registry", "RootCAType         : None", 1))
    _, findings = judge(folder, now=NOW)
    [missing] = [f for f in findings if f.check_id == "HT-STORE-002"]
    assert missing.server == "EXCAS1" and missing.severity.value == "error"
    assert "is in no root store: the Root listing does not hold it" in missing.message
    # exported from the server that has it, imported here
    assert missing.remediation.startswith("# On EXMBX1, export the root")
    assert "X509Store('AuthRoot', 'LocalMachine')" in missing.remediation


def test_group_policy_proven_by_the_policies_registry_key(tmp_path: Path) -> None:
    """RootCAType GroupPolicy, and the root's thumbprint under HKLM\\SOFTWARE\\Policies\\...\\Root: proven, with the
    physical store named; the root is known by its thumbprint from EXMBX1's listings."""
    folder = _estate(tmp_path, "EXCAS1/certutil-store-root.txt")
    exchange = folder / "EXCAS1" / "Get-ExchangeCertificate.txt"
    exchange.write_text(exchange.read_text().replace("RootCAType         : Registry", "RootCAType         : GroupPolicy", 1))
    (folder / "EXCAS1" / "gpo-roots.txt").write_text(
        "C:\\>reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\Root\\Certificates\n\n"
        f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\SystemCertificates\\Root\\Certificates\\{ROOT_THUMBPRINT}\n")
    _, findings = judge(folder, now=NOW)
    [root] = [f for f in findings if f.check_id == "HT-ROOT-002"]
    assert f"Proven by the AuthRoot listing of EXCAS1, which does not hold the root {ROOT}, while its Root (Group " \
           "Policy) listing does." in root.message
    assert any(c.source.path.endswith("gpo-roots.txt") and c.source.line == 3 for c in root.evidence)
