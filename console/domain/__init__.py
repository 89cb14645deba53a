"""The ITIL incident-management rules as plain Python (stdlib only, no Qt, no I/O)."""
