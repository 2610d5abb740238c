"""Certificates with the encoding quirks real CAs have issued and Windows loads, built at test time: a valid
certificate from cryptography, re-encoded with the quirk (tests/reencode.py) and signed again by its issuer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID
from factory import Issued, issue, name, rsa_key
from reencode import Node, Tbs, oid, rewrite

ROOT = issue(name("Quirk Root CA", "Quirk Trust", "US"), key=rsa_key(slot=1), ca=True)
# C=US, then a multi-valued RDN {O=Zed, CN=mail.contoso.com} that cryptography writes DER-sorted (O first: shorter)
LEAF_NAME = x509.Name([
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "US")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "mail.contoso.com"),
                                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Zed")]),
])
LEAF = issue(LEAF_NAME, issuer=ROOT, key=rsa_key(slot=3), dns=("mail.contoso.com", "autodiscover.contoso.com"),
             ca_issuers=("http://crt.quirk.example/root.crt",), serial=0x1234)
SUBJECT = "O=Zed + CN=mail.contoso.com, C=US"  # Windows: RDNs reversed, a multi-valued RDN in encoded order


@dataclass(frozen=True)
class Quirk:
    name: str
    change: Callable[[Tbs], None]
    note: str  # words the lenient note must hold
    strict_refuses: bool = True
    subject: str = SUBJECT
    serial: str = "1234"
    not_before: datetime | None = None
    strict_reads_it: bool = False  # cryptography loads it (refusing only a field hybridtls reads itself)

    @property
    def field(self) -> str:
        """What the quirk rewrites: two quirks of one field do not combine."""
        return {"unsorted-set": "rdn", "ampersand": "rdn", "at-sign": "rdn", "utctime-no-seconds": "time",
                "utctime-offset": "time", "generalized-before-2050": "time"}.get(self.name, self.name.split("-")[0])


def _swap_set(tbs: Tbs) -> None:
    tbs.subject.kids[1].kids.reverse()


def _printable(text: bytes, rdn: int = 1, index: int = 0) -> Callable[[Tbs], None]:
    def change(tbs: Tbs) -> None:
        tbs.subject.kids[rdn].kids[index].kids[1] = Node(0x13, body=text)
    return change


def _serial(body: bytes) -> Callable[[Tbs], None]:
    def change(tbs: Tbs) -> None:
        tbs.serial.body = body
    return change


def _not_before(tag: int, text: bytes) -> Callable[[Tbs], None]:
    def change(tbs: Tbs) -> None:
        tbs.validity.kids[0] = Node(tag, body=text)
    return change


def _critical_false(tbs: Tbs) -> None:
    tbs.extension("2.5.29.17").kids.insert(1, Node(0x01, body=b"\x00"))


def _long_length(tbs: Tbs) -> None:
    tbs.subject.long_length = True


def _empty_rdn(tbs: Tbs) -> None:
    tbs.subject.kids.append(Node(0x31, constructed=True))


def _boolean_01(tbs: Tbs) -> None:
    basic = tbs.extension("2.5.29.19")
    basic.kids[1] = Node(0x01, body=b"\x01")


QUIRKS = (
    Quirk("unsorted-set", _swap_set, "non-DER-sorted SET", subject="CN=mail.contoso.com + O=Zed, C=US"),
    Quirk("ampersand", _printable(b"AT&T Services, Inc.", index=0), "'&' in a PrintableString",
          subject='O="AT&T Services, Inc." + CN=mail.contoso.com, C=US'),
    Quirk("at-sign", _printable(b"mail@contoso.com", index=1), "'@' in a PrintableString",
          subject="O=Zed + CN=mail@contoso.com, C=US"),
    Quirk("serial-zeros", _serial(b"\x00\x00\x12\x34"), "redundant leading zero", serial="00001234"),
    Quirk("serial-negative", _serial(b"\xff\x12\x34"), "negative serial", strict_refuses=False, serial="FF1234",
          strict_reads_it=True),
    Quirk("utctime-no-seconds", _not_before(0x17, b"2610281200Z"), "UTCTime without seconds",
          not_before=datetime(2026, 10, 28, 12, 0)),
    Quirk("utctime-offset", _not_before(0x17, b"261028140000+0200"), "time zone offset",
          not_before=datetime(2026, 10, 28, 12, 0)),
    Quirk("generalized-before-2050", _not_before(0x18, b"20261028120000Z"), "GeneralizedTime before 2050",
          strict_refuses=False, not_before=datetime(2026, 10, 28, 12, 0), strict_reads_it=True),
    Quirk("critical-false", _critical_false, "critical flag written out as FALSE"),
    Quirk("ber-length", _long_length, "shortest form"),
    Quirk("empty-rdn", _empty_rdn, "an empty RDN", strict_reads_it=True),
    Quirk("boolean-01", _boolean_01, "BOOLEAN encoded as 01"),
)


def quirky(*quirks: Quirk, base: Issued = LEAF, signer: Issued = ROOT) -> bytes:
    return rewrite(base.der, signer.key, *(q.change for q in quirks))


__all__ = ["LEAF", "QUIRKS", "ROOT", "SUBJECT", "Node", "Quirk", "oid", "quirky"]
