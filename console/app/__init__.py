"""console/app."""
