"""console/services."""
