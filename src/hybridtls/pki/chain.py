"""Build each leaf's chain the way a validating peer would, from what was supplied, without fetching.

Facts only: which certificates link, where the chain ends and why. Judging them is for checks/chain.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

from hybridtls.model import CertificateFile, ChainAnalysis, ChainEnd
from hybridtls.pki.facts import signature_check

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


def _links(cert: CertificateFile, candidate: CertificateFile, unchecked: list[str]) -> bool:
    """Whether ``candidate`` issued ``cert``: its key verifies the signature; or, where the signature cannot be
    checked here (a DSA key that inherits its parameters, an algorithm hybridtls does not check), the names link
    and the key identifiers do not disagree. Such a link is noted in ``unchecked``."""
    if cert.issuer_der != candidate.subject_der:
        return False
    check = signature_check(cert, candidate)
    if check.ok is None and not (cert.authority_key_id and candidate.subject_key_id
                                 and cert.authority_key_id != candidate.subject_key_id):
        unchecked.append(f"{cert.subject or cert.thumbprint} -> {candidate.subject or candidate.thumbprint}: "
                         f"linked by name; the signature could not be checked ({check.reason})")
        return True
    return check.ok is True


def _issuer_of(cert: CertificateFile, candidates: Sequence[CertificateFile],
               unchecked: list[str]) -> CertificateFile | None:
    # Prefer a candidate whose key identifier matches, as Windows and OpenSSL do, then any that verifies.
    ordered = sorted(candidates, key=lambda c: c.subject_key_id != cert.authority_key_id or c.subject_key_id is None)
    for candidate in ordered:
        if candidate.der != cert.der and _links(cert, candidate, unchecked):
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
    unchecked: list[str] = []
    current = leaf
    anchor_by_thumbprint = {a.thumbprint: a for a in anchors}
    while len(path) <= MAX_DEPTH:
        if current.thumbprint in anchor_by_thumbprint:
            return _done(leaf, path, supplied, unchecked, ChainEnd.TRUSTED, origin=anchor_by_thumbprint[current.thumbprint].origin)
        for anchor in anchor_index.get(current.issuer_der, []):
            if _links(current, anchor.certificate, unchecked):
                path.append(anchor.certificate)
                return _done(leaf, path, supplied, unchecked, ChainEnd.TRUSTED, origin=anchor.origin)
        if current.is_self_signed:
            return _done(leaf, path, supplied, unchecked, ChainEnd.UNTRUSTED_ROOT)
        issuer = _issuer_of(current, pool.get(current.issuer_der, []), unchecked)
        if issuer is None or issuer in path:
            return _done(leaf, path, supplied, unchecked, ChainEnd.MISSING_ISSUER, missing=current.issuer,
                         urls=current.ca_issuers)
        path.append(issuer)
        current = issuer
    return _done(leaf, path, supplied, unchecked, ChainEnd.MISSING_ISSUER, missing=current.issuer, urls=current.ca_issuers)


def _done(leaf: CertificateFile, path: list[CertificateFile], supplied: Sequence[CertificateFile],
          unchecked: list[str], end: ChainEnd,
          *, origin: str | None = None, missing: str | None = None, urls: tuple[str, ...] = ()) -> ChainAnalysis:
    on_path = {c.der for c in path}
    return ChainAnalysis(
        leaf=leaf, path=tuple(path), end=end, anchor_origin=origin, missing_issuer=missing,
        missing_issuer_urls=urls, served_extra=tuple(c for c in supplied if c.der not in on_path),
        unchecked_signatures=tuple(dict.fromkeys(unchecked)),
    )
