"""Alembic environment: runs against the engine the app hands over (db.engine.migrate)."""

from __future__ import annotations

from alembic import context

from evaluator_cert.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("connection_engine")
    if engine is None:
        from evaluator_cert.config import get_settings
        from evaluator_cert.db.engine import make_engine

        engine = make_engine(get_settings().database_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
