"""What ``probe --mx DOMAIN`` learned of a domain's MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): facts, never
judgements. checks/mtasts.py judges them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hybridtls.model.pki import CertificateFile, ChainAnalysis
from hybridtls.model.source import Source


class PolicyMode(str, enum.Enum):
    ENFORCE = "enforce"
    TESTING = "testing"
    NONE = "none"


class PolicyFetch(str, enum.Enum):
    """How fetching ``https://mta-sts.DOMAIN/.well-known/mta-sts.txt`` ended."""

    OK = "ok"  # status 200, text/plain, within the size bound: the body was read
    NOT_TRIED = "not_tried"  # no usable _mta-sts TXT record: a sender would not fetch either
    DNS_FAILED = "dns_failed"  # mta-sts.DOMAIN does not resolve
    REFUSED = "refused"
    TIMEOUT = "timeout"  # connect, handshake or the whole fetch took too long
    UNREACHABLE = "unreachable"
    TLS_FAILED = "tls_failed"
    REDIRECT = "redirect"  # 3xx: senders do not follow redirects (RFC 8461 §3.3)
    HTTP_STATUS = "http_status"  # anything but 200
    CONTENT_TYPE = "content_type"  # not text/plain
    TOO_LARGE = "too_large"  # over the body bound (64 KiB)
    PROTOCOL_ERROR = "protocol_error"  # not HTTP/1.x, malformed headers or chunks, a truncated body


@dataclass(frozen=True, slots=True, kw_only=True)
class MtaStsPolicy:
    """A policy file as read (RFC 8461 §3.2). ``valid`` is false when a sender would discard it: the reasons are
    in ``problems``; ``notes`` are what a sender passes over (unknown keys, duplicates: the first value is used)."""

    version: str | None = None
    mode: PolicyMode | None = None
    mode_text: str | None = None  # as written, when it is not one of the three modes
    max_age: int | None = None
    mx: tuple[str, ...] = ()  # the mx: patterns, in order
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    text: str = ""  # the body, as fetched (bounded)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class MxMatch:
    """One MX host of the domain against the policy's mx: patterns."""

    host: str
    pattern: str | None  # the first pattern that matches; None: no pattern does


@dataclass(frozen=True, slots=True, kw_only=True)
class TxtLookup:
    """The TXT records at one name, and what was read from the one that counts.

    ``records`` are every TXT record there (strings of one record joined, as RFC 8461 and 8460 say); ``record``
    the single one beginning with the version tag, or None (none, or several: then no policy/reporting)."""

    name: str  # _mta-sts.DOMAIN, _smtp._tls.DOMAIN
    records: tuple[str, ...] = ()
    record: str | None = None
    fields: tuple[tuple[str, str], ...] = ()  # key, value, in order
    problems: tuple[str, ...] = ()  # why the record is unusable: a sender would act as if there were none
    error: str = ""  # the lookup failed (timeout, SERVFAIL); NXDOMAIN and no answer are simply no records

    def field(self, key: str) -> str | None:
        return next((value for name, value in self.fields if name == key), None)

    @property
    def usable(self) -> bool:
        return self.record is not None and not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class MtaStsResult:
    """MTA-STS and TLS-RPT of one domain probed with ``--mx``: the records, the policy fetched, the policy host's
    chain as served (and as judged by the run's trust store), every MX against the policy."""

    domain: str
    sts_record: TxtLookup
    policy_id: str | None = None
    policy_url: str = ""
    policy_address: str = ""  # where the policy host was reached
    fetch: PolicyFetch = PolicyFetch.NOT_TRIED
    fetch_detail: str = ""
    http_status: int | None = None
    content_type: str | None = None
    policy: MtaStsPolicy | None = None  # None when no body was read
    host_chain: tuple[CertificateFile, ...] = ()  # the policy host's chain, as served
    host_chain_judged: ChainAnalysis | None = None  # the same, judged by the run's trust store (pipeline)
    host_name_covered: bool | None = None  # the leaf covers mta-sts.DOMAIN; None: no chain
    mx_hosts: tuple[str, ...] = ()  # the domain's MX hosts, by preference
    mx_matches: tuple[MxMatch, ...] = ()  # each MX host against the policy's patterns (empty without a policy)
    tlsrpt_record: TxtLookup | None = None
    tlsrpt_rua: tuple[str, ...] = ()  # the reporting addresses, as written
    observed_at: datetime | None = None

    @property
    def source(self) -> Source:
        return Source(path=f"mta-sts {self.domain}")

    @property
    def policy_host(self) -> str:
        return f"mta-sts.{self.domain}"

    @property
    def unmatched(self) -> tuple[str, ...]:
        return tuple(m.host for m in self.mx_matches if m.pattern is None)
