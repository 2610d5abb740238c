"""MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) of the domains probed with ``--mx``, judged as a sending MTA that
applies them would: Exchange Online sends with MTA-STS by default.

The fixes are what to publish (DNS records, the policy file), not PowerShell: every line is a ``#`` comment, and
only names that are plain host names (letters, digits, hyphens) are written into them; anything else is a
placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from hybridtls import references as refs
from hybridtls.checks import fixes
from hybridtls.checks.base import Check, CheckContext, Command, Family, needs
from hybridtls.checks.needs import INBOUND_DANE, MTA_STS, MTA_STS_HOST, MTA_STS_POLICY
from hybridtls.model import (
    ChainEnd,
    Citation,
    EvidenceSet,
    Finding,
    FindingSubject,
    MtaStsResult,
    NotJudged,
    PolicyFetch,
    PolicyMode,
    Severity,
    TxtLookup,
)
from hybridtls.pki.mtasts import match_mx, valid_mx_pattern

RECOMMENDED_MAX_AGE = 604800  # one week, and more once the policy is settled


def _name(text: str, placeholder: str) -> str:
    return text if valid_mx_pattern(text) else placeholder


def _domain(result: MtaStsResult) -> str:
    return _name(result.domain, "<Domain>")


def _cite(result: MtaStsResult, text: str) -> Citation:
    return Citation(source=result.source, text=text)


def _record_citation(lookup: TxtLookup, result: MtaStsResult) -> Citation:
    shown = " | ".join(lookup.records) or "no TXT record"
    return _cite(result, f"{lookup.name} TXT: {shown}")


def _policy_citation(result: MtaStsResult) -> Citation:
    policy = result.policy
    if policy is None:
        return _cite(result, f"{result.policy_url}: {result.fetch.value} ({result.fetch_detail})")
    mode = policy.mode.value if policy.mode else policy.mode_text
    return _cite(result, f"{result.policy_url} (id {result.policy_id}): mode {mode}, max_age {policy.max_age}, "
                         f"mx {', '.join(policy.mx) or 'none'}")


def policy_fix(result: MtaStsResult, mode: str = "enforce", max_age: int = RECOMMENDED_MAX_AGE,
               extra_mx: Sequence[str] = ()) -> str:
    """The policy file to publish and the TXT record with a new id. The policy keeps the patterns of the current
    one (when valid) and adds each MX host they do not match, so that every MX of the domain is listed."""
    domain = _domain(result)
    kept = list(result.policy.mx) if result.policy is not None and result.policy.valid else []
    missing = [h for h in (*result.mx_hosts, *extra_mx) if match_mx([h], kept)[0].pattern is None]
    hosts = list(dict.fromkeys([*kept, *(_name(h, "<MxHost>") for h in missing)])) or ["<MxHost>"]
    stamp = (result.observed_at or datetime.now()).strftime("%Y%m%dT%H%M%S")
    return "\n".join([
        f"# Publish this policy at https://mta-sts.{domain}/.well-known/mta-sts.txt (HTTP 200, Content-Type",
        "# text/plain, a certificate from a public CA that covers mta-sts." + domain + ", no redirect):",
        "#   version: STSv1",
        f"#   mode: {mode}",
        *(f"#   mx: {host}" for host in hosts),
        f"#   max_age: {max_age}",
        "# then give the TXT record a new id, so that senders fetch the policy again:",
        f"#   _mta-sts.{domain}. 3600 IN TXT \"v=STSv1; id={stamp}\"",
    ])


def _found(check: Check, result: MtaStsResult, severity: Severity, message: str, evidence: Iterable[Citation],
           remediation: str) -> Finding:
    return check.finding(subject=result.domain, about=FindingSubject(name=result.domain), severity=severity,
                         message=message, evidence=evidence, remediation=remediation)


def _unmatched(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for result in evidence.mta_sts:
        policy = result.policy
        if result.fetch is not PolicyFetch.OK or policy is None or not policy.valid or policy.mode is PolicyMode.NONE:
            continue
        if not result.mx_hosts:
            yield NotJudged(subject=result.domain, reason="no MX host of the domain to match against the policy "
                                                          "(the MX lookup failed or found none)", source=result.source)
            continue
        if not result.unmatched:
            continue
        enforce = policy.mode is PolicyMode.ENFORCE
        missing = ", ".join(result.unmatched)
        effect = ("Senders that apply MTA-STS (Exchange Online does by default) will not deliver to "
                  f"{'them' if len(result.unmatched) > 1 else 'it'}"
                  + (": with no MX left that matches, mail to the domain from them stops" if
                     len(result.unmatched) == len(result.mx_matches) else "") + "." if enforce else
                  "In testing mode senders still deliver, and report the failure (TLS-RPT); in enforce mode they "
                  "would not.")
        yield _found(
            MX_NOT_IN_POLICY, result, Severity.ERROR if enforce else Severity.WARNING,
            message=(f"{result.domain}: the MTA-STS policy (mode {policy.mode.value if policy.mode else '?'}) lists "
                     f"mx {', '.join(policy.mx)}, which does not match the MX host(s) {missing}. {effect}"),
            evidence=[_policy_citation(result),
                      _cite(result, "MX " + ", ".join(f"{m.host} ({m.pattern or 'no pattern matches'})"
                                                      for m in result.mx_matches))],
            remediation=policy_fix(result, policy.mode.value if policy.mode else "testing",
                                   max(policy.max_age or 0, RECOMMENDED_MAX_AGE)),
        )


MX_NOT_IN_POLICY = Check(
    id="HT-STS-001", title="An MX host is not listed in the MTA-STS policy", severity=Severity.ERROR,
    needs=needs(MTA_STS_POLICY),
    explanation=("A sender that applies MTA-STS delivers only to MX hosts that match one of the policy's mx: "
                 "patterns (a *. pattern stands for exactly one left-most label). In enforce mode an MX host "
                 "missing from the policy receives no mail from such senders, Exchange Online among them; the "
                 "usual cause is a new MX (a migration, a hybrid cut-over, inbound DANE's *.mx.microsoft host) "
                 "added without updating the policy and its id."),
    remediation="List every MX host in the policy file, then change the id in the _mta-sts TXT record.",
    command=fixes.STS_LIST_MX,
    references=(refs.RFC_8461, refs.EXO_MTA_STS), run=_unmatched,
)


def _unusable(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for result in evidence.mta_sts:
        record = result.sts_record
        if record.error:
            yield NotJudged(subject=result.domain, reason=record.error, source=result.source)
            continue
        if record.record is None and not record.problems:
            continue  # no MTA-STS at all: HT-STS-004 says so
        if not record.usable:
            yield _found(
                POLICY_UNUSABLE, result, Severity.WARNING,
                message=(f"{result.domain}: the _mta-sts TXT record is not usable ({'; '.join(record.problems)}). "
                         "Senders act as if the domain had no MTA-STS policy: its mail is not protected."),
                evidence=[_record_citation(record, result)], remediation=policy_fix(result))
        elif result.fetch is not PolicyFetch.OK:
            yield _found(
                POLICY_UNUSABLE, result, Severity.WARNING,
                message=(f"{result.domain}: the _mta-sts record announces policy id {result.policy_id}, but "
                         f"{result.policy_url} could not be fetched ({result.fetch.value.replace('_', ' ')}: "
                         f"{result.fetch_detail}). Senders report 'sts-policy-fetch-error' (RFC 8460); those that "
                         "cached an earlier policy keep applying it until its max_age runs out, the others deliver "
                         "without MTA-STS."),
                evidence=[_record_citation(record, result), _policy_citation(result)],
                remediation=policy_fix(result))
        elif result.policy is not None and not result.policy.valid:
            enforce = result.policy.mode is PolicyMode.ENFORCE
            yield _found(
                POLICY_UNUSABLE, result, Severity.ERROR if enforce else Severity.WARNING,
                message=(f"{result.domain}: the policy at {result.policy_url} is not valid "
                         f"({'; '.join(result.policy.problems)}). Senders discard it and report "
                         "'sts-policy-invalid' (RFC 8460)"
                         + (": the enforcement it means to declare is not applied, and senders that cached an "
                            "earlier policy keep that one, whatever MX hosts it lists." if enforce else ".")),
                evidence=[_record_citation(record, result), _policy_citation(result)],
                remediation=policy_fix(result, "enforce" if enforce else "testing"))


POLICY_UNUSABLE = Check(
    id="HT-STS-002", title="The MTA-STS record or policy is unusable", severity=Severity.ERROR,
    needs=needs(MTA_STS),
    explanation=("RFC 8461: exactly one _mta-sts TXT record beginning 'v=STSv1;' with an id of 1 to 32 letters and "
                 "digits; the policy fetched with HTTPS GET from mta-sts.<domain>/.well-known/mta-sts.txt, status "
                 "200 without redirects, Content-Type text/plain, within 64 KiB, with version STSv1, a mode, a "
                 "max_age from 0 to 31557600 and the mx: patterns. Anything else and senders act as if there were "
                 "no policy, or keep the one they cached."),
    remediation="Publish one well-formed record and a valid policy file served as text/plain with status 200.",
    command=fixes.STS_SERVE_POLICY,
    references=(refs.RFC_8461, refs.RFC_8460), run=_unusable,
)


def _host_certificate(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding]:
    for result in evidence.mta_sts:
        if not result.host_chain:
            continue
        leaf = result.host_chain[0]
        judged = result.host_chain_judged
        faults = []
        if judged is None:
            faults.append("its chain was not judged")
        elif judged.end is not ChainEnd.TRUSTED:
            faults.append(f"its chain does not reach a trusted root ({judged.end.value.replace('_', ' ')}"
                          + (f": {judged.missing_issuer}" if judged.missing_issuer else "") + ")")
        if result.host_name_covered is False:
            faults.append(f"it does not cover {result.policy_host} (its names: "
                          f"{', '.join(leaf.certificate_domains) or 'none'})")
        if leaf.not_after < ctx.now:
            faults.append(f"it expired on {leaf.not_after:%Y-%m-%d}")
        elif leaf.not_before > ctx.now:
            faults.append(f"it is not valid before {leaf.not_before:%Y-%m-%d}")
        if not faults:
            continue
        yield HOST_CERTIFICATE.finding(
            subject=result.policy_host, about=FindingSubject(name=result.domain, certificate=leaf.thumbprint),
            message=(f"{result.policy_host} ({result.policy_address}) presents {leaf.subject!r}: "
                     + "; ".join(faults) + ". Senders refuse a policy fetched over such a connection and report "
                     "'sts-webpki-invalid' (RFC 8460): the domain's MTA-STS policy is, for them, unavailable."),
            evidence=[Citation(source=leaf.source, text=f"{leaf.subject}, thumbprint {leaf.thumbprint}, NotAfter "
                                                        f"{leaf.not_after:%Y-%m-%d}")],
            remediation=(f"# Serve mta-sts.{_domain(result)} with a certificate from a public CA that covers that "
                         "name, with its\n# intermediates, and renew it before it expires (it is fetched by senders "
                         "whenever the policy id changes)."),
        )


HOST_CERTIFICATE = Check(
    id="HT-STS-003", title="The MTA-STS policy host's certificate is not valid", severity=Severity.ERROR,
    needs=needs(MTA_STS_HOST, also="--trust (extra roots; the Mozilla roots are always trusted)"),
    explanation=("Senders fetch the policy over HTTPS and validate the certificate as a browser would: a chain "
                 "to a trusted public root, served with its intermediates, covering mta-sts.<domain>, in date. "
                 "A policy host whose certificate fails is as good as no policy."),
    remediation="Serve the policy host with a valid public certificate for mta-sts.<domain>.",
    command=fixes.STS_HOST_CERTIFICATE,
    references=(refs.RFC_8461, refs.RFC_8460), run=_host_certificate,
)


def _protection(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for result in evidence.mta_sts:
        record, policy = result.sts_record, result.policy
        if record.error:
            yield NotJudged(subject=result.domain, reason=record.error, source=result.source)
            continue
        if record.record is None and not record.problems:
            yield _found(
                WEAK_POLICY, result, Severity.INFO,
                message=(f"{result.domain} publishes no MTA-STS record: senders use TLS when offered but accept "
                         "a downgrade to plain text or an invalid certificate."),
                evidence=[_record_citation(record, result)], remediation=policy_fix(result, "testing", 86400))
            continue
        if policy is None or not policy.valid or result.fetch is not PolicyFetch.OK:
            continue
        if policy.mode in (PolicyMode.TESTING, PolicyMode.NONE):
            said = ("testing: senders report failures but still deliver" if policy.mode is PolicyMode.TESTING else
                    "none: the policy is being withdrawn, senders stop applying it")
            yield _found(
                WEAK_POLICY, result, Severity.INFO,
                message=f"{result.domain}: the MTA-STS policy's mode is {said}.",
                evidence=[_policy_citation(result)],
                remediation=policy_fix(result, "enforce", max(policy.max_age or 0, RECOMMENDED_MAX_AGE)))
        if policy.max_age is not None and policy.max_age < refs.MTA_STS_SHORT_MAX_AGE and \
                policy.mode is not PolicyMode.NONE:
            yield _found(
                WEAK_POLICY, result, Severity.WARNING,
                message=(f"{result.domain}: the policy's max_age is {policy.max_age} seconds: senders forget it "
                         "within the day, so an attacker who blocks the policy host (or strips STARTTLS) for a "
                         "while faces no policy at all. RFC 8461 suggests weeks."),
                evidence=[_policy_citation(result)],
                remediation=policy_fix(result, policy.mode.value if policy.mode else "enforce"))


WEAK_POLICY = Check(
    id="HT-STS-004", title="MTA-STS does not (yet) protect the domain's mail", severity=Severity.WARNING,
    needs=needs(MTA_STS),
    explanation=("Without an MTA-STS policy in enforce mode, senders deliver over opportunistic TLS: an attacker "
                 "on the path can strip STARTTLS or present any certificate. testing mode only reports; a short "
                 "max_age makes the policy lapse quickly."),
    remediation="Publish a policy in testing mode, read the TLS-RPT reports, then move to enforce with max_age of "
                "a week or more.",
    command=fixes.STS_ENFORCE,
    references=(refs.RFC_8461, refs.EXO_MTA_STS), run=_protection,
)


def _reporting(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    for result in evidence.mta_sts:
        lookup = result.tlsrpt_record
        if lookup is None:
            continue
        if lookup.error:
            yield NotJudged(subject=result.domain, reason=lookup.error, source=result.source)
            continue
        fix = (f"# Publish one TLS-RPT record (a mailbox, or an https:// endpoint, that reads the daily JSON "
               f"reports):\n#   _smtp._tls.{_domain(result)}. 3600 IN TXT \"v=TLSRPTv1; "
               f"rua=mailto:tlsrpt@{_domain(result)}\"")
        if lookup.record is None and not lookup.problems:
            yield _found(
                NO_REPORTING, result, Severity.INFO,
                message=(f"{result.domain} publishes no TLS-RPT record: senders that fail to deliver over TLS (an "
                         "MX certificate that does not match, a policy that cannot be fetched) have nowhere to say "
                         "so, and you will not hear of it."),
                evidence=[_record_citation(lookup, result)], remediation=fix)
        elif not lookup.usable:
            yield _found(
                NO_REPORTING, result, Severity.WARNING,
                message=(f"{result.domain}: the TLS-RPT record is not usable ({'; '.join(lookup.problems)}): "
                         "senders send no reports."),
                evidence=[_record_citation(lookup, result)], remediation=fix)


NO_REPORTING = Check(
    id="HT-STS-005", title="No usable TLS-RPT record", severity=Severity.WARNING, needs=needs(MTA_STS),
    explanation=("RFC 8460: one _smtp._tls TXT record 'v=TLSRPTv1; rua=...' with mailto: or https: addresses "
                 "asks senders for daily reports of TLS successes and failures (MTA-STS and DANE alike)."),
    remediation="Publish v=TLSRPTv1; rua=mailto:<Mailbox> at _smtp._tls.<domain>.",
    command=fixes.TLSRPT_RECORD,
    references=(refs.RFC_8460,), run=_reporting,
)


def _dane_mx(evidence: EvidenceSet, ctx: CheckContext) -> Iterator[Finding | NotJudged]:
    """Inbound DANE to Exchange Online: each enabled domain's expected MX (``…mx.microsoft``) must be the domain's
    MX and be listed by its policy (Get-DnssecStatusForVerifiedDomain beside a saved probe --mx)."""
    by_domain = {r.domain.rstrip(".").lower(): r for r in evidence.mta_sts}
    for status in evidence.dnssec_statuses:
        if (status.feature_status or "").casefold() != "enabled":
            continue
        expected = (status.expected_mx or "").rstrip(".").lower()
        domain = (status.domain_name or "").rstrip(".").lower()
        result = by_domain.get(domain) or (next(iter(by_domain.values())) if len(by_domain) == 1 and not domain
                                           else None)
        if result is None or not expected:
            yield NotJudged(subject=domain or "a DNSSEC-enabled domain",
                            reason="no probe --mx of this domain, or no expected MX in the status")
            continue
        faults = []
        if expected not in result.mx_hosts:
            faults.append(f"its MX is {', '.join(result.mx_hosts) or 'missing'}, not {expected}")
        if result.policy is not None and result.policy.valid and \
                match_mx([expected], result.policy.mx)[0].pattern is None:
            faults.append(f"its MTA-STS policy (mx {', '.join(result.policy.mx)}) does not list {expected}")
        if faults:
            yield _found(
                DANE_MX, result, Severity.ERROR,
                message=(f"{result.domain}: inbound SMTP DANE is enabled in Exchange Online, but "
                         + "; ".join(faults) + ". Mail must reach Exchange Online through the DNSSEC-signed "
                         f"{expected}, and MTA-STS senders deliver only to MX hosts the policy lists."),
                evidence=[_cite(result, f"Get-DnssecStatusForVerifiedDomain: expected MX {expected}"),
                          _policy_citation(result)],
                remediation=("# Point the MX at the host Exchange Online expects, and list it in the policy:\n"
                             f"#   {_domain(result)}. 3600 IN MX 0 {_name(expected, '<ExpectedMxHost>')}.\n"
                             + policy_fix(result, extra_mx=[_name(expected, "<ExpectedMxHost>")])),
            )


DANE_MX = Check(
    id="HT-STS-006", title="Inbound DANE is enabled but the MX or the policy lacks the mx.microsoft host",
    severity=Severity.ERROR, needs=needs(INBOUND_DANE),
    explanation=("Enabling inbound SMTP DANE with DNSSEC for an accepted domain (Enable-DnssecForVerifiedDomain) "
                 "moves its Exchange Online MX to a DNSSEC-signed host under mx.microsoft. The domain's MX must "
                 "then be that host, and an MTA-STS policy must have an mx: pattern that matches it, or MTA-STS "
                 "senders will not deliver to it. A *. pattern covers exactly one label: check it against the "
                 "whole host name."),
    remediation="Publish the MX Get-DnssecStatusForVerifiedDomain expects; add it to the policy and change the id.",
    command=fixes.MX_RECORD,
    references=(refs.EXO_INBOUND_DANE, refs.RFC_8461), run=_dane_mx,
)


FAMILY = Family(name="mtasts", commands=frozenset({Command.CHECK, Command.PROBE}),
                checks=(MX_NOT_IN_POLICY, POLICY_UNUSABLE, HOST_CERTIFICATE, WEAK_POLICY, NO_REPORTING, DANE_MX))
CHECKS = FAMILY.checks
