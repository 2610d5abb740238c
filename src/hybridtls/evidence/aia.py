"""Fetching a missing issuer from a caIssuers URL: only with --fetch-aia, bounded in time and size."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from hybridtls.errors import EvidenceError
from hybridtls.model import CertificateFile

FETCH_TIMEOUT_SECONDS = 5.0
MAX_ISSUER_BYTES = 256 * 1024  # a certificate or a small PKCS#7 bundle; anything larger is not an issuer


class _NoRedirectToOtherSchemes(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urlsplit(newurl).scheme not in ("http", "https"):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_issuer(url: str) -> list[CertificateFile]:
    """Download and read the certificate(s) at a caIssuers URL. Raises EvidenceError naming the URL."""
    from hybridtls.evidence.certificates import read_certificate_file

    if urlsplit(url).scheme not in ("http", "https"):
        raise EvidenceError("only http and https caIssuers URLs are fetched", path=url)
    opener = urllib.request.build_opener(_NoRedirectToOtherSchemes())
    request = urllib.request.Request(url, headers={"User-Agent": "hybridtls"})
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            data = response.read(MAX_ISSUER_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise EvidenceError(f"could not fetch the issuer ({reason})", path=url) from None
    if len(data) > MAX_ISSUER_BYTES:
        raise EvidenceError(f"the issuer download is larger than {MAX_ISSUER_BYTES} bytes; not a certificate",
                            path=url)
    return read_certificate_file(data, url)
