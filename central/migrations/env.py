"""Alembic environment of the central service: runs on the connection it is handed."""
from alembic import context

from central.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    from sqlalchemy import create_engine

    with create_engine(context.config.get_main_option("sqlalchemy.url")).begin() as conn:
        _run(conn)
else:
    _run(connection)
