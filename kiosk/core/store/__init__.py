"""Durable storage on the kiosk: SQLite through SQLAlchemy 2, schema by Alembic."""
