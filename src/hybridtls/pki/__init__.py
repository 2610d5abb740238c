"""Certificates as Windows and Exchange see them: names, TlsCertificateName, chains."""
