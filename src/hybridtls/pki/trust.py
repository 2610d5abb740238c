"""Trust anchors, and every chain a run builds, in one place.

The anchors are the Mozilla root store (certifi) that public CAs chain to, plus roots the admin adds (``--trust``)
or that a saved report says it was judged with. A ``TrustStore`` builds each chain as a validating peer would:
certificate files from what was supplied (the files themselves and ``--intermediates``); a probed server's chain
from what it served only, because Exchange Online does not fetch missing intermediates.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from functools import cached_property, partial

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hybridtls.model import AnchorRecord, CertificateFile, ChainAnalysis, Source, TrustBasis
from hybridtls.pki.chain import TrustAnchor, analyse_chain, leaves
from hybridtls.pki.der import DerError, tbs_fields
from hybridtls.pki.facts import certificate_facts, facts_from_der


def mozilla_roots() -> list[TrustAnchor]:
    import certifi

    path = certifi.where()
    with open(path, "rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few old roots have encodings cryptography warns about
        certs = x509.load_pem_x509_certificates(handle.read())
    anchors = []
    for index, cert in enumerate(certs):
        try:
            subject_der = tbs_fields(cert.tbs_certificate_bytes).subject
        except DerError:
            continue
        anchors.append(TrustAnchor(
            "Mozilla root store", subject_der=subject_der,
            thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - the thumbprint is SHA-1
            facts=partial(certificate_facts, cert, source=Source(path=path), label=f"Mozilla root {index + 1}"),
        ))
    return anchors


def mozilla_edition() -> str:
    import certifi

    return f"certifi {certifi.__version__}"


def anchor_record(certificate: CertificateFile, origin: str) -> AnchorRecord:
    return AnchorRecord(origin=origin, sha256=hashlib.sha256(certificate.der).hexdigest().upper(),
                        subject=certificate.subject, der=certificate.der)


def anchor_certificate(record: AnchorRecord) -> CertificateFile:
    """The certificate behind a recorded anchor (its DER was checked when the record was read)."""
    return facts_from_der(record.der, source=Source(path=record.origin),
                          label=f"anchor {record.subject} ({record.origin})")


class TrustStore:
    """What chains are judged against, and the certificates available to build them with."""

    def __init__(self, extra: Sequence[AnchorRecord] = (), *, intermediates: Sequence[CertificateFile] = (),
                 mozilla: bool = True) -> None:
        self.extra = tuple(_unique(extra))
        self.intermediates = tuple(intermediates)
        self.mozilla = mozilla

    @cached_property
    def anchors(self) -> list[TrustAnchor]:
        anchors = mozilla_roots() if self.mozilla else []
        anchors.extend(TrustAnchor.of(anchor_certificate(record), record.origin) for record in self.extra)
        return anchors

    @property
    def basis(self) -> TrustBasis:
        return TrustBasis(mozilla=mozilla_edition() if self.mozilla else None, anchors=self.extra)

    def chains_of_files(self, subjects: Sequence[CertificateFile],
                        extra_supplied: Sequence[CertificateFile] = ()) -> tuple[ChainAnalysis, ...]:
        """A chain for each leaf among certificate files, built from the files, the intermediates given and
        anything else supplied (e.g. certificates downloaded from caIssuers URLs)."""
        supplied = [*subjects, *self.intermediates, *extra_supplied]
        return tuple(analyse_chain(leaf, supplied, self.anchors) for leaf in leaves(list(subjects)))

    def chain_as_served(self, served: Sequence[CertificateFile]) -> ChainAnalysis:
        """The chain a server presented, judged as Exchange Online would: from what was served, no fetching."""
        return analyse_chain(served[0], served, self.anchors)

    def chain_of(self, leaf: CertificateFile, supplied: Sequence[CertificateFile]) -> ChainAnalysis:
        return analyse_chain(leaf, [*supplied, *self.intermediates], self.anchors)


def _unique(records: Sequence[AnchorRecord]) -> list[AnchorRecord]:
    """One anchor per certificate: the first origin named wins (a --trust file before a recorded one)."""
    seen: set[str] = set()
    kept = []
    for record in records:
        if record.sha256 not in seen:
            seen.add(record.sha256)
            kept.append(record)
    return kept
