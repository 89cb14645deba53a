"""console/views/matrix."""
