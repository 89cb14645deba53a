"""One module per backend behind the ``Backend`` protocol of ``base``.

``noc`` talks to our own ticket API; Request Tracker and others follow the
same protocol, so the sync engine and the board never change for them.
"""
