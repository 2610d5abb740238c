"""hybridtls: find, explain and prevent certificate and TLS faults in Exchange hybrid mail flow."""

__version__ = "0.1.0"
