"""Keeping the local cache in step with a backend (Qt-free).

``engine`` pulls the change feed and pushes the outbox (its parts: ``core``,
``pull``, ``push``, ``conflicts``; what it reports is in ``status``); ``edits``
writes the operator's edits locally and queues them. The Qt worker that runs
the engine on a QThread is :mod:`console.models.sync_worker`. Import the
submodules directly: this package imports none of them.
"""
