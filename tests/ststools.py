"""A domain's MTA-STS and TLS-RPT as probe --mx records them, healthy, for the check tests to break one way at a
time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from factory import public_like_pki

from hybridtls.model import ChainAnalysis, ChainEnd, MtaStsResult, PolicyFetch, Source
from hybridtls.pki.facts import certificate_facts
from hybridtls.pki.mtasts import match_mx, read_policy, read_sts_record, read_tlsrpt_record

NOW = datetime(2026, 11, 27, 12, 0)
PKI = public_like_pki(leaf_dns=("mta-sts.contoso.com",))
LEAF = certificate_facts(PKI.leaf.cert, source=Source(path="probe mta-sts.contoso.com"), label="policy host")
INTER = certificate_facts(PKI.intermediate.cert, source=Source(path="probe mta-sts.contoso.com"), label="issuing")
GOOD_POLICY = "version: STSv1\nmode: enforce\nmx: mail.contoso.com\nmx: *.mail.protection.outlook.com\nmax_age: 1209600\n"
MX = ("mail.contoso.com", "contoso-com.mail.protection.outlook.com")


def sts_result(policy_text: str = GOOD_POLICY, mx: tuple[str, ...] = MX, **changes: object) -> MtaStsResult:
    read = read_policy(policy_text)
    rpt, rua = read_tlsrpt_record("_smtp._tls.contoso.com", ["v=TLSRPTv1; rua=mailto:tls@contoso.com"])
    result = MtaStsResult(
        domain="contoso.com", sts_record=read_sts_record("_mta-sts.contoso.com", ["v=STSv1; id=20261101"]),
        policy_id="20261101", policy_url="https://mta-sts.contoso.com/.well-known/mta-sts.txt",
        policy_address="192.0.2.80", fetch=PolicyFetch.OK, http_status=200, content_type="text/plain", policy=read,
        host_chain=(LEAF, INTER), host_chain_judged=ChainAnalysis(leaf=LEAF, path=(LEAF, INTER), end=ChainEnd.TRUSTED),
        host_name_covered=True, mx_hosts=mx, mx_matches=match_mx(mx, read.mx), tlsrpt_record=rpt, tlsrpt_rua=rua,
        observed_at=NOW)
    return replace(result, **changes)  # type: ignore[arg-type]


