"""Keeping the local cache in step with a backend.

``engine`` (Qt-free) pulls the change feed and pushes the outbox; ``edits``
(Qt-free) writes the operator's edits locally and queues them; ``worker``
runs the engine on a QThread and turns its reports into signals;
``embedded`` starts the in-process server used when no backend is configured.
Import the submodules directly: this package imports none of them, so the
Qt-free parts never pull in Qt.
"""
