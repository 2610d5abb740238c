"""Build each leaf's chain the way a validating peer would, from what was supplied, without fetching.

Facts only: which certificates link, where the chain ends and why. Judging them is for checks/chain.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

from hybridtls.model import CertificateFile, ChainAnalysis, ChainEnd
from hybridtls.pki.facts import signed_by

MAX_DEPTH = 10


class TrustAnchor:
    """A trusted root. Its Windows-style facts are worked out only when a chain reaches it: the Mozilla store has
    some 150 roots and a run needs one or two."""

    def __init__(self, origin: str, *, subject_der: bytes, thumbprint: str,
                 facts: Callable[[], CertificateFile]) -> None:
        self.origin = origin  # "Mozilla root store" or "--trust FILE"
        self.subject_der = subject_der
        self.thumbprint = thumbprint
        self._facts = facts

    @classmethod
    def of(cls, certificate: CertificateFile, origin: str) -> TrustAnchor:
        return cls(origin, subject_der=certificate.subject_der, thumbprint=certificate.thumbprint,
                   facts=lambda: certificate)

    @cached_property
    def certificate(self) -> CertificateFile:
        return self._facts()


def _by_subject(certs: Iterable[CertificateFile]) -> dict[bytes, list[CertificateFile]]:
    index: dict[bytes, list[CertificateFile]] = {}
    for cert in certs:
        index.setdefault(cert.subject_der, []).append(cert)
    return index


def _issuer_of(cert: CertificateFile, candidates: Sequence[CertificateFile]) -> CertificateFile | None:
    # Prefer a candidate whose key identifier matches, as Windows and OpenSSL do, then any that verifies.
    ordered = sorted(candidates, key=lambda c: c.subject_key_id != cert.authority_key_id or c.subject_key_id is None)
    for candidate in ordered:
        if candidate.der != cert.der and signed_by(cert, candidate):
            return candidate
    return None


def leaves(certs: Sequence[CertificateFile]) -> list[CertificateFile]:
    """Certificates that issued none of the others: the ends to build chains from."""
    issuers = {c.issuer_der for c in certs if not c.is_self_signed}
    found = [c for c in certs if c.subject_der not in issuers or c.is_self_signed and len(certs) == 1]
    return found or list(certs[:1])


def analyse_chain(leaf: CertificateFile, supplied: Sequence[CertificateFile],
                  anchors: Sequence[TrustAnchor]) -> ChainAnalysis:
    pool = _by_subject(c for c in supplied if c.der != leaf.der)
    anchor_index: dict[bytes, list[TrustAnchor]] = {}
    for anchor in anchors:
        anchor_index.setdefault(anchor.subject_der, []).append(anchor)
    path = [leaf]
    current = leaf
    anchor_by_thumbprint = {a.thumbprint: a for a in anchors}
    while len(path) <= MAX_DEPTH:
        if current.thumbprint in anchor_by_thumbprint:
            return _done(leaf, path, supplied, ChainEnd.TRUSTED, origin=anchor_by_thumbprint[current.thumbprint].origin)
        for anchor in anchor_index.get(current.issuer_der, []):
            if signed_by(current, anchor.certificate):
                path.append(anchor.certificate)
                return _done(leaf, path, supplied, ChainEnd.TRUSTED, origin=anchor.origin)
        if current.is_self_signed:
            return _done(leaf, path, supplied, ChainEnd.UNTRUSTED_ROOT)
        issuer = _issuer_of(current, pool.get(current.issuer_der, []))
        if issuer is None or issuer in path:
            return _done(leaf, path, supplied, ChainEnd.MISSING_ISSUER, missing=current.issuer,
                         urls=current.ca_issuers)
        path.append(issuer)
        current = issuer
    return _done(leaf, path, supplied, ChainEnd.MISSING_ISSUER, missing=current.issuer, urls=current.ca_issuers)


def _done(leaf: CertificateFile, path: list[CertificateFile], supplied: Sequence[CertificateFile], end: ChainEnd,
          *, origin: str | None = None, missing: str | None = None, urls: tuple[str, ...] = ()) -> ChainAnalysis:
    on_path = {c.der for c in path}
    return ChainAnalysis(
        leaf=leaf, path=tuple(path), end=end, anchor_origin=origin, missing_issuer=missing,
        missing_issuer_urls=urls, served_extra=tuple(c for c in supplied if c.der not in on_path),
    )
