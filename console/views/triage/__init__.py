"""console/views/triage."""
