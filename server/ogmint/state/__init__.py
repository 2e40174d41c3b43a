"""Shared state, split by aggregate: one small protocol per aggregate, one module per aggregate
per backend.

Layout::

    state/base.py        Backend (open/close/ping), StateUnavailable, UTC windows
    state/<aggregate>.py the aggregate's records and its protocol (keys, limits, renders,
                         deliveries, templates, …)
    state/atomic.py      the steps that change several aggregates at once (admit, save)
    state/store.py       State: every aggregate of one backend, built by ``create_app``
    state/sqlite/        db.py (the file), <aggregate>.py (its SCHEMA and class), atomic.py
    state/redis/         client.py (pool, pipelined scripts), <aggregate>.py, atomic.py,
                         *.lua (scripts by name; ``_*.lua`` are libraries pulled in by
                         ``--! include``), key layout in ``redis/__init__.py``

Adding an aggregate ``widgets``:

1. ``state/widgets.py``: its record dataclasses and ``class WidgetStore(Protocol)``.
2. ``state/sqlite/widgets.py``: ``SCHEMA`` (its own tables) and ``SqliteWidgets(db)``; add the
   schema and the instance in ``sqlite_state`` (``state/sqlite/__init__.py``).
3. ``state/redis/widgets.py``: ``RedisWidgets(client)`` using ``client.script(name, …)`` for
   anything that must be atomic, with the Lua in ``state/redis/<name>.lua``; add it in
   ``redis_state`` and its keys to the layout in ``state/redis/__init__.py``.
4. A field ``widgets: WidgetStore`` on ``State`` (``state/store.py``).
5. ``tests/contract/test_state_widgets.py`` using the ``state`` fixture of
   ``tests/contract/conftest.py`` (every test runs on SQLite and on a real Redis).

A step that must change two aggregates atomically goes in ``atomic.py`` (protocol and both
backends), never inside one aggregate's module.
"""
