"""The reference ticket API: FastAPI + SQLAlchemy on SQLite or PostgreSQL.

- ``app.create_app(settings)`` builds the API; ``embedded.EmbeddedServer`` runs it
  on a background thread (the desktop app's built-in backend).
- ``settings`` (typed settings), ``db`` (engines, sessions, write serialisation),
  ``tables`` (ORM), ``auth`` (tokens and roles), ``deps`` (FastAPI dependencies),
  ``changes`` (the change log), ``events`` (SSE wake-ups, LISTEN/NOTIFY),
  ``errors`` and ``middleware`` (one error shape, size limit, request log).
- ``services/`` hold the rules (service functions take the session as a keyword
  argument); ``routes/`` map them to HTTP, one module per resource.
- ``cli_serve`` and ``cli_token`` are the ``noc-console serve`` and ``token`` commands.

The wire schema lives in :mod:`console.wire`, shared with the client.
"""
