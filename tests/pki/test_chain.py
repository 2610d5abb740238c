from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from factory import NOW, issue, name, public_like_pki, rsa_key

from hybridtls.checks import CheckContext, run_checks
from hybridtls.checks.chain import CHECKS
from hybridtls.evidence.certificates import read_certificate_file
from hybridtls.model import ChainEnd, EvidenceSet
from hybridtls.pki.chain import TrustAnchor, analyse_chain
from hybridtls.pki.hostnames import covers, is_private_url

JUDGED = NOW.replace(tzinfo=None)


def facts(*issued):  # type: ignore[no-untyped-def]
    return [read_certificate_file(i.der, f"{i.cert.subject.rfc4514_string()}.cer")[0] for i in issued]


def judge(leaf, supplied, anchors, names=()):  # type: ignore[no-untyped-def]
    chain = analyse_chain(leaf, supplied, [TrustAnchor.of(a, "test root store") for a in anchors])
    evidence = EvidenceSet(certificate_files=(leaf,), chains=(chain,))
    outcomes = run_checks(evidence, CheckContext(now=JUDGED, expected_names=tuple(names)), CHECKS)
    return chain, {f.check_id for o in outcomes for f in o.findings}, [f for o in outcomes for f in o.findings]


def test_good_full_chain_is_quiet() -> None:
    pki = public_like_pki()
    leaf, inter, root = facts(pki.leaf, pki.intermediate, pki.root)
    chain, ids, _ = judge(leaf, [leaf, inter], [root], names=["mail.contoso.com"])
    assert chain.end is ChainEnd.TRUSTED and [c.subject.split(",")[0] for c in chain.path] == [
        "CN=mail.contoso.com", "CN=Test TLS Issuing CA 2026", "CN=Test Root CA"]
    assert ids == set()


def test_intermediate_not_supplied_names_it_and_where_to_get_it() -> None:
    pki = public_like_pki()
    leaf, root = facts(pki.leaf, pki.root)
    chain, ids, findings = judge(leaf, [leaf], [root])
    assert chain.end is ChainEnd.MISSING_ISSUER and ids == {"HT-CHAIN-001"}
    assert chain.missing_issuer == "CN=Test TLS Issuing CA 2026, O=Test Trust Services, C=US"
    assert "http://crt.testtrust.example.com/issuing2026.crt" in findings[0].message
    assert "Cert:\\LocalMachine\\CA" in findings[0].remediation


def test_unknown_internal_ca_is_a_different_diagnosis() -> None:
    root = issue(name("Contoso Root CA"), key=rsa_key(slot=4), ca=True)
    inter = issue(name("Contoso Issuing CA"), issuer=root, key=rsa_key(slot=5), ca=True)
    leaf = issue(name("mail.contoso.com"), issuer=inter, dns=("mail.contoso.com",),
                 ca_issuers=("ldap:///CN=Contoso%20Issuing%20CA,CN=AIA,CN=Public%20Key%20Services",
                             "http://pki.contoso.local/issuing.crt"))
    public = public_like_pki()
    [leaf_f] = facts(leaf)
    chain, ids, findings = judge(leaf_f, [leaf_f], facts(public.root))
    assert chain.end is ChainEnd.MISSING_ISSUER and ids == {"HT-CHAIN-002"}
    assert "unknown CA" in findings[0].message
    # with its whole private chain supplied it ends at a root nobody public trusts
    leaf_f, inter_f, root_f = facts(leaf, inter, root)
    chain, ids, findings = judge(leaf_f, [leaf_f, inter_f, root_f], facts(public.root))
    assert chain.end is ChainEnd.UNTRUSTED_ROOT and ids == {"HT-CHAIN-002"}
    assert "not in the Mozilla root store" in findings[0].message


def test_self_signed_leaf() -> None:
    leaf = issue(name("EXCAS1"), dns=("excas1.contoso.local",))
    [leaf_f] = facts(leaf)
    chain, ids, findings = judge(leaf_f, [leaf_f], facts(public_like_pki().root))
    assert leaf_f.is_self_signed and chain.end is ChainEnd.UNTRUSTED_ROOT
    assert ids == {"HT-CHAIN-002"} and "is self-signed" in findings[0].message


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"not_after": NOW - timedelta(days=1)}, "HT-CHAIN-003"),
        ({"not_before": NOW + timedelta(days=3), "not_after": NOW + timedelta(days=90)}, "HT-CHAIN-003"),
        ({"hash_algorithm": hashes.SHA1()}, "HT-CHAIN-004"),
        ({"key": rsa_key(1024, slot=6)}, "HT-CHAIN-005"),
        ({"eku": (x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH,)}, "HT-CHAIN-006"),
        ({"eku": None}, None),  # no EKU extension: any purpose
    ],
)
def test_each_defect_of_the_leaf(options, expected) -> None:  # type: ignore[no-untyped-def]
    pki = public_like_pki(**options)
    leaf, inter, root = facts(pki.leaf, pki.intermediate, pki.root)
    _, ids, _ = judge(leaf, [leaf, inter], [root])
    assert ids == ({expected} if expected else set())


def test_expired_intermediate_is_named() -> None:
    pki = public_like_pki()
    late_inter = issue(pki.intermediate.cert.subject, issuer=pki.root, key=pki.intermediate.key, ca=True,
                       not_after=NOW - timedelta(days=2))
    leaf, inter, root = facts(pki.leaf, late_inter, pki.root)
    _, ids, findings = judge(leaf, [leaf, inter], [root])
    assert ids == {"HT-CHAIN-003"} and "link 1 of its chain" in findings[0].message


@pytest.mark.parametrize(
    ("host", "names", "covered"),
    [
        ("mail.contoso.com", ("mail.contoso.com",), True),
        ("MAIL.Contoso.com.", ("mail.contoso.com",), True),
        ("mail.contoso.com", ("*.contoso.com",), True),
        ("contoso.com", ("*.contoso.com",), False),
        ("a.mail.contoso.com", ("*.contoso.com",), False),
        ("mail.contoso.com", ("m*.contoso.com",), False),
        ("mail.contoso.com", ("*.*.com",), False),
        ("mail.contoso.com", ("*.com",), False),
        ("smtp.contoso.com", ("mail.contoso.com", "autodiscover.contoso.com"), False),
    ],
)
def test_name_coverage(host: str, names: tuple[str, ...], covered: bool) -> None:
    assert any(covers(n, host) for n in names) is covered
    pki = public_like_pki(leaf_dns=names if "*.*" not in names[0] and names[0] != "*.com" else ("x.contoso.com",))
    if names[0] in ("*.*.com", "*.com"):
        return
    leaf, inter, root = facts(pki.leaf, pki.intermediate, pki.root)
    _, ids, _ = judge(leaf, [leaf, inter], [root], names=[host])
    assert ("HT-CHAIN-007" in ids) is not covered


def test_private_urls() -> None:
    assert is_private_url("ldap:///CN=x") and is_private_url("http://pki.contoso.local/x.crt")
    assert is_private_url("http://10.1.2.3/x.crt") and is_private_url("http://pki/x.crt")
    assert not is_private_url("http://cacerts.digicert.com/x.crt")


def test_judged_at_now_only() -> None:
    assert isinstance(JUDGED, datetime)
