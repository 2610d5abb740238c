"""SMTP, STARTTLS and TLS on the wire (and the DNS to find the addresses): collects facts, never judges."""
