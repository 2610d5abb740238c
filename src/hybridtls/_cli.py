"""The console script's old address, kept for ``hybridtls._cli:entry_point`` and ``from hybridtls._cli import main``."""

from hybridtls.cli import entry_point, main

__all__ = ["entry_point", "main"]
