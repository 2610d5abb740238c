"""The plan and MTA-STS: under a policy senders apply, the new certificate must cover every MX host this
organisation answers itself; Exchange Online's MX hosts are not its to cover."""

from __future__ import annotations

from factory import public_like_pki
from ststools import GOOD_POLICY, sts_result

from hybridtls.model import EvidenceSet, Severity, Source
from hybridtls.pki.facts import certificate_facts
from hybridtls.planning.build import mta_sts_risks


def _new(*names: str):  # type: ignore[no-untyped-def]
    pki = public_like_pki(leaf_dns=names)
    return certificate_facts(pki.leaf.cert, source=Source(path="new.pfx"), label="new")


def test_an_enforced_policy_whose_own_mx_the_new_certificate_misses_is_an_error() -> None:
    evidence = EvidenceSet(mta_sts=(sts_result(),))  # MX: mail.contoso.com and Exchange Online's
    [risk] = mta_sts_risks(evidence, _new("autodiscover.contoso.com"))
    assert risk.severity is Severity.ERROR and "mail.contoso.com" in risk.title and "enforce" in risk.detail
    assert "outlook.com" not in risk.title  # Exchange Online's MX is not this certificate's to cover


def test_testing_mode_warns_and_a_covering_certificate_is_said_to_cover() -> None:
    testing = EvidenceSet(mta_sts=(sts_result(GOOD_POLICY.replace("enforce", "testing")),))
    [risk] = mta_sts_risks(testing, _new("autodiscover.contoso.com"))
    assert risk.severity is Severity.WARNING and "report failures" in risk.detail
    [fine] = mta_sts_risks(EvidenceSet(mta_sts=(sts_result(),)), _new("mail.contoso.com"))
    assert fine.severity is Severity.INFO and "covers every MX host of contoso.com" in fine.title
    [wildcard] = mta_sts_risks(EvidenceSet(mta_sts=(sts_result(),)), _new("*.contoso.com"))
    assert wildcard.severity is Severity.INFO


def test_no_policy_or_mode_none_asks_nothing_and_no_probe_is_said() -> None:
    none_mode = EvidenceSet(mta_sts=(sts_result(GOOD_POLICY.replace("enforce", "none")),))
    assert mta_sts_risks(none_mode, _new("other.contoso.com")) == []
    only_online = EvidenceSet(mta_sts=(sts_result(mx=("contoso-com.mail.protection.outlook.com",)),))
    assert mta_sts_risks(only_online, _new("other.contoso.com")) == []
    [unknown] = mta_sts_risks(EvidenceSet(), _new("mail.contoso.com"))
    assert unknown.severity is Severity.INFO and unknown.title == "MTA-STS not checked"
