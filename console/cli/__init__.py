"""console/cli."""
