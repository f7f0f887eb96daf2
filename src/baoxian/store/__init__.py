"""The store (持久化): SQLAlchemy 2 Core over SQLite (embedded default) or PostgreSQL.

Public surface:

- :func:`~baoxian.store.db.database_url`, :func:`~baoxian.store.db.make_engine`,
  :func:`~baoxian.store.db.session_factory` — connecting (nothing connects at import);
- :class:`~baoxian.store.crypto.FieldCipher`, :func:`~baoxian.store.crypto.load_data_key` —
  personal data encrypted at rest, blind indexes for lookups;
- :func:`~baoxian.store.migrate.upgrade`, :func:`~baoxian.store.migrate.current_revision` —
  Alembic migrations run from code;
- :func:`~baoxian.store.bulk.copy_rows` — set-based bulk writes (COPY on PostgreSQL).

Each context keeps its own tables beside its model (``baoxian/<context>/tables.py``) on the
shared :data:`~baoxian.store.tables.metadata`.
"""
