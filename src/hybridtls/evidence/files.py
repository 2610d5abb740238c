"""Reading one input file safely: only regular files, never more than a limit, never blocking on a FIFO.

Every file hybridtls reads (evidence, certificates, --trust, --intermediates, --password-file, --targets-file)
comes through here, so a FIFO, a device such as /dev/zero, a socket or a file that grows while it is read is a
one-line error naming the file and the limit, not a hang or a MemoryError.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from hybridtls.errors import EvidenceError

DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
SIZE_HINT = "raise the limit with --max-file-size BYTES"


def not_regular(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO", "a device"...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def read_limited(path: str | os.PathLike[str], display: str, limit: int = DEFAULT_MAX_FILE_BYTES, *,
                 what: str = "the file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; EvidenceError otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise EvidenceError(f"cannot read {what} ({exc.strerror or exc})", path=display) from None
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        kind = not_regular(status.st_mode)
        if kind:
            raise EvidenceError(f"{what} is {kind}, not a regular file; not read", path=display)
        if status.st_size > limit:
            raise EvidenceError(f"{what} is {status.st_size:,} bytes, over the {limit:,}-byte limit; not read",
                                path=display, hint=SIZE_HINT)
        try:
            data = _read_up_to(handle, limit + 1, status.st_size + 1)
        except OSError as exc:
            raise EvidenceError(f"cannot read {what} ({exc.strerror or exc})", path=display) from None
    if len(data) > limit:
        raise EvidenceError(f"{what} grew past the {limit:,}-byte limit while it was read; not read", path=display,
                            hint=SIZE_HINT)
    return data


def _read_up_to(handle: BinaryIO, most: int, expected: int) -> bytes:
    """At most ``most`` bytes. The file's size is asked for first (and one byte more, to see it grow): a read of
    ``most`` bytes would reserve the whole limit (256 MiB) for every file, however small."""
    first = handle.read(min(most, expected))
    if len(first) < min(most, expected) or len(first) >= most:
        return first
    parts = [first]
    total = len(first)
    while total < most:  # the file grew while it was read: on, a piece at a time, up to the limit
        piece = handle.read(min(1 << 20, most - total))
        if not piece:
            break
        parts.append(piece)
        total += len(piece)
    return b"".join(parts)
