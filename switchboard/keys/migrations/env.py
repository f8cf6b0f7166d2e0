"""Alembic environment of the key tables, run in-process by `SqlKeyStore.migrate()`.

The store hands over an open connection in `config.attributes["connection"]`; there is no
alembic.ini and no offline mode. The version table has its own name so that other Alembic
environments can share the database.
"""

from __future__ import annotations

from alembic import context

from switchboard.keys.engine import VERSION_TABLE
from switchboard.keys.tables import metadata
from switchboard.rag import tables as _rag_tables  # noqa: F401  (its tables join `metadata`)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run these migrations through SqlKeyStore.migrate() or `switchboard keys migrate`"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
