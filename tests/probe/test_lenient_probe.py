"""A server presenting a certificate cryptography refuses: the probe reads it leniently, as Windows would."""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from quirks import LEAF, QUIRKS, ROOT, quirky
from test_hostile_servers import SETTINGS, LoopbackServer, tls_after_starttls

from hybridtls.model import ProbeOutcome
from hybridtls.pki.chain import TrustAnchor, analyse_chain
from hybridtls.pki.facts import certificate_facts
from hybridtls.smtp.session import probe_address


def _pem(der: bytes) -> bytes:
    return b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"


def test_a_presented_certificate_cryptography_refuses_is_read_leniently(tmp_path: Path) -> None:
    der = quirky(QUIRKS[0])  # a multi-valued RDN not in DER order
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(_pem(der))
    key_file.write_bytes(LEAF.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)  # OpenSSL loads what cryptography refuses

    with LoopbackServer(tls_after_starttls(context)) as server:
        result = asyncio.run(probe_address("127.0.0.1", "127.0.0.1", server.port, "quirky.test", SETTINGS))
    assert result.outcome is ProbeOutcome.OK, result.detail
    [presented] = result.chain
    assert presented.der == der and presented.subject == QUIRKS[0].subject
    assert presented.lenient[0].startswith("read leniently")
    root = certificate_facts(ROOT.cert, source=presented.source, label="root")
    assert analyse_chain(presented, [], [TrustAnchor.of(root, "--trust root.pem")]).end.value == "trusted"

