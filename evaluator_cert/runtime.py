"""The process-wide application context: settings, engine, session factory, content.

The UI (through ``st.cache_resource``), the HTTP routes and the CLI all obtain it here, so
one process holds one engine.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from evaluator_cert.config import Settings, get_settings
from evaluator_cert.db.engine import check_database, make_engine, make_session_factory, migrate
from evaluator_cert.db.models import AppMeta

if TYPE_CHECKING:
    from evaluator_cert.content.catalog import Catalog


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings, *, migrate_schema: bool = True) -> AppContext:
        """Connect (and migrate); raises DatabaseUnavailableError with a clear sentence."""
        engine = make_engine(settings.database_url)
        check_database(engine)
        if migrate_schema:
            migrate(engine)
        return cls(settings, engine, make_session_factory(engine, settings=settings))

    def session(self) -> Session:
        return self.sessions()

    def read_session(self) -> Session:
        """A session for reads alone (the public credential API): its connection runs in
        autocommit, so a request costs no BEGIN and ROLLBACK round trips. A flush in it
        raises: without a transaction, each write would commit on its own."""
        return self._read_sessions()

    @cached_property
    def _read_sessions(self) -> sessionmaker[Session]:
        reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        factory = make_session_factory(reads, settings=self.settings)
        event.listen(factory, "before_flush", _refuse_writes)
        return factory

    @cached_property
    def base_catalog(self) -> Catalog:
        from evaluator_cert.content.catalog import load_catalog

        return load_catalog(self.settings.content_dir)

    def catalog(self) -> Catalog:
        """The shipped content with the gold corrections accepted so far applied."""
        from evaluator_cert.services.content import current_catalog

        with self.session() as session:
            return current_catalog(session, self.base_catalog)

    def meta(self, key: str) -> str | None:
        with self.session() as session:
            row = session.get(AppMeta, key)
            return row.value if row else None

    def is_demo(self) -> bool:
        return self.meta("demo") == "true"

    def dispose(self) -> None:
        self.engine.dispose()


_context: AppContext | None = None
_context_lock = threading.Lock()


def get_app() -> AppContext:
    """The process's context, opened on first use."""
    global _context
    with _context_lock:
        if _context is None:
            _context = AppContext.open(get_settings())
        return _context


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(AppMeta, key)
    if row is None:
        session.add(AppMeta(key=key, value=value))
    else:
        row.value = value


def all_meta(session: Session) -> dict[str, str]:
    return {m.key: m.value for m in session.scalars(select(AppMeta))}


def _refuse_writes(session: Session, _flush_context: object, _instances: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("A read session cannot write; use AppContext.session().")
