"""A TLS client handshake driven over an asyncio stream through pyOpenSSL memory BIOs.

Python 3.11's ssl module hands back only the leaf; pyOpenSSL gives the whole chain exactly as the server sent
it (order and count), which is what Exchange Online validates. Nothing is verified here: the chain is captured
and judged later, the way Exchange Online would judge it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from OpenSSL import SSL, crypto

MAX_HANDSHAKE_BYTES = 512 * 1024  # a chain of a dozen large certificates fits; a firehose does not

VERSIONS = {
    "TLSv1": SSL.TLS1_VERSION,
    "TLSv1.1": SSL.TLS1_1_VERSION,
    "TLSv1.2": SSL.TLS1_2_VERSION,
    "TLSv1.3": SSL.TLS1_3_VERSION,
}


class HandshakeFailed(Exception):
    pass


@dataclass(frozen=True)
class TlsSession:
    version: str
    cipher: str
    chain: tuple[bytes, ...]  # DER, as presented: a certificate cryptography refuses is read leniently later
    connection: SSL.Connection


def client_context(only: str | None = None) -> SSL.Context:
    """Accept anything the server offers (we judge it afterwards); ``only`` pins one protocol version."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    # SECLEVEL=0 lets the sweep see whether a server still accepts TLS 1.0/1.1 and weak keys.
    context.set_cipher_list(b"ALL:@SECLEVEL=0")
    if only:
        context.set_min_proto_version(VERSIONS[only])
        context.set_max_proto_version(VERSIONS[only])
    else:
        context.set_min_proto_version(SSL.TLS1_VERSION)
    return context


async def _flush(connection: SSL.Connection, writer: asyncio.StreamWriter) -> None:
    pending = b""
    while True:
        try:
            chunk = connection.bio_read(65536)
        except SSL.WantReadError:
            break
        if not chunk:
            break
        pending += chunk
    if pending:
        writer.write(pending)
        await writer.drain()


async def handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, server_name: str | None,
                    timeout: float, only: str | None = None) -> TlsSession:
    connection = SSL.Connection(client_context(only), None)
    if server_name:
        connection.set_tlsext_host_name(server_name.encode("idna"))
    connection.set_connect_state()
    received = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            connection.do_handshake()
            break
        except SSL.WantReadError:
            pass
        except SSL.Error as exc:
            await _flush(connection, writer)  # send our alert, politely
            raise HandshakeFailed(_describe(exc)) from None
        await _flush(connection, writer)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError
        data = await asyncio.wait_for(reader.read(65536), remaining)
        if not data:
            raise HandshakeFailed("the server closed the connection during the TLS handshake")
        received += len(data)
        if received > MAX_HANDSHAKE_BYTES:
            raise HandshakeFailed(f"more than {MAX_HANDSHAKE_BYTES} bytes without completing the handshake")
        connection.bio_write(data)
    await _flush(connection, writer)
    # OpenSSL keeps each certificate's encoding as received, so the DER written back is the DER presented.
    chain = tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, c) for c in connection.get_peer_cert_chain() or [])
    return TlsSession(version=connection.get_protocol_version_name(), cipher=connection.get_cipher_name() or "",
                      chain=chain, connection=connection)


async def send_encrypted(session: TlsSession, writer: asyncio.StreamWriter, data: bytes) -> None:
    session.connection.sendall(data)
    await _flush(session.connection, writer)


async def receive(session: TlsSession, reader: asyncio.StreamReader, deadline: float) -> bytes:
    """The next decrypted bytes, b"" once the peer has closed. ``deadline`` is in loop time; past it,
    ``asyncio.TimeoutError``; a TLS error after the handshake is ``HandshakeFailed``."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            return session.connection.recv(65536)
        except SSL.WantReadError:
            pass
        except (SSL.ZeroReturnError, SSL.SysCallError):
            return b""
        except SSL.Error as exc:
            raise HandshakeFailed(_describe(exc)) from None
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise asyncio.TimeoutError
        data = await asyncio.wait_for(reader.read(65536), remaining)
        if not data:
            return b""
        session.connection.bio_write(data)


async def read_encrypted_line(session: TlsSession, reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Read one decrypted line (bounded), for the reply to QUIT."""
    buffer = b""
    deadline = asyncio.get_running_loop().time() + timeout
    while b"\n" not in buffer and len(buffer) < 4096:
        try:
            chunk = await receive(session, reader, deadline)
        except HandshakeFailed:
            break
        if not chunk:
            break
        buffer += chunk
    return buffer


def _describe(exc: SSL.Error) -> str:
    reasons = []
    for item in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(item, tuple) and len(item) == 3:
            reasons.append(str(item[2]))
    return "; ".join(reasons) or str(exc) or type(exc).__name__
