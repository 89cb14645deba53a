"""console/server/cli."""
