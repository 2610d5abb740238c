"""Planning a certificate change before it is made: what refers to the current certificate, the ordered
PowerShell steps to switch, and what would fail after the change if done as planned."""
