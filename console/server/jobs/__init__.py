"""console/server/jobs."""
