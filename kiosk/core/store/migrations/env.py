"""Alembic environment: migrations run on the connection the kiosk hands over."""
from __future__ import annotations

from alembic import context

import sync_queue.outbox  # noqa: F401  (registers the outbox table on the metadata)
from kiosk.core.store import models  # noqa: F401
from kiosk.kernel.storage import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
