"""console/server/core."""
