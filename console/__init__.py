"""NOC Console: a native desktop operations-center console for incident response."""

__version__ = "0.1.0"
