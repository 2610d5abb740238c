"""Trust anchors: the Mozilla root store (certifi) that public CAs chain to, plus roots the admin adds."""

from __future__ import annotations

import warnings

from cryptography import x509

from hybridtls.model import Source
from hybridtls.pki.chain import TrustAnchor
from hybridtls.pki.facts import certificate_facts


def mozilla_roots() -> list[TrustAnchor]:
    import certifi

    path = certifi.where()
    with open(path, "rb") as handle, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few old roots have encodings cryptography warns about
        certs = x509.load_pem_x509_certificates(handle.read())
    return [TrustAnchor(certificate_facts(cert, source=Source(path=path), label=f"Mozilla root {i + 1}"),
                        "Mozilla root store") for i, cert in enumerate(certs)]
