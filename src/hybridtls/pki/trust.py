"""Trust anchors: the Mozilla root store (certifi) that public CAs chain to, plus roots the admin adds."""

from __future__ import annotations

import warnings
from functools import partial

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hybridtls.model import Source
from hybridtls.pki.chain import TrustAnchor
from hybridtls.pki.der import DerError, tbs_fields
from hybridtls.pki.facts import certificate_facts


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
