"""asyncio SMTP + STARTTLS probes: collect what each address says and presents. Never judges, never sends mail."""
