"""console/views/wall."""
