"""Database engine, sessions and the one owner of every transaction.

Repositories and services only ``flush()``; ``session_scope`` (workers, CLI) and the
request dependency in ``app.api.deps`` commit or roll back. Work that must happen only
once a transaction is durable (sending a Celery job) is registered with
``call_after_commit`` and dropped if the transaction rolls back.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

import orjson
import psycopg
from psycopg.types import json as psycopg_json
from sqlalchemy import (
    DateTime,
    Engine,
    MetaData,
    Select,
    Text,
    cast,
    create_engine,
    event,
    type_coerce,
)
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

try:
    from sqlalchemy.util import await_
except ImportError:  # SQLAlchemy 2.0's name
    from sqlalchemy.util import await_only as await_

from app.config import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # Postgres's, in the sessions' UTC_SESSION
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_loads(text: str | bytes) -> Any:
    """JSON columns as read from the database: orjson, four times as fast as the standard
    library's (decoding a page of 100 deployments' JSON columns took 0.9 ms, now 0.23), and
    the standard library's for what orjson refuses (an integer past 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# psycopg decodes json and jsonb columns itself (SQLAlchemy passes them through).
psycopg_json.set_json_loads(_json_loads)


class KeptJSON(TypeDecorator[Any]):
    """A JSON column read as its text (``kept_json(column)``) and decoded once a process
    for each distinct text: a page of deployments holds the same revision specs, empty
    conditions and sealed names read after read, and decoding every row's JSON afresh was
    a seventh of a page's CPU. Equal text, the same object: a reader must not mutate it
    (the views' readers only present it), and comparing two reads of it is an identity
    check, not a walk of two dicts."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect) -> Any:
        if value is None:
            return None
        if len(value) > _KEPT_JSON_MAX_CHARS:
            return _json_loads(value)
        return _decoded(value)


# The bound of what is kept: 4,096 texts of at most 4 KB (a spec is 0.3 to 2 KB).
_KEPT_JSON_MAX_CHARS = 4096


@lru_cache(maxsize=4096)
def _decoded(text: str) -> Any:
    return _json_loads(text)


def kept_json(column: Any) -> Any:
    """``column`` (JSON) as ``KeptJSON``, under its own name."""
    return type_coerce(cast(column, Text), KeptJSON()).label(column.name)


# Postgres sessions in UTC: psycopg then hands out datetimes in UTC itself (its own
# ``timezone.utc``), which ``UTCDateTime`` passes through; in the server's default zone
# (often Etc/UTC, a ZoneInfo) each one was converted, a twentieth of a page's CPU.
UTC_SESSION = {"options": "-c TimeZone=UTC"}


def make_engine(url: str, *, pooled: bool = True, pool_size: int = 30,
                begin_immediate: bool = True) -> Engine:
    """``pooled=False``: a connection per transaction, closed after it (for a thread that
    writes every few seconds in a process that forks: no idle connection to inherit).
    ``pool_size``: Postgres connections kept and the most in use at once (no overflow:
    see Settings.db_pool_size). ``begin_immediate=False``: SQLite statements in autocommit,
    for reads only (get_read_engine)."""
    pool = {} if pooled else {"poolclass": NullPool}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_deserializer=_json_loads, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets the API read while a worker writes; foreign keys are off by default.
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        if not begin_immediate:
            return engine

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn) -> None:
            # A deferred transaction that reads, then writes, fails at once with "database
            # is locked" when another process wrote in between; IMMEDIATE waits its turn.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if not pooled:
        return create_engine(url, connect_args=UTC_SESSION, **pool)
    engine = create_engine(url, pool_size=pool_size, max_overflow=0, connect_args=UTC_SESSION)
    ping_when_idle(engine)
    return engine


# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 2.0


def ping_when_idle(engine: Engine, idle_s: float = PING_AFTER_IDLE_S,
                   clock: Callable[[], float] = time.monotonic) -> None:
    """``pool_pre_ping``, but only for a connection that sat idle for ``idle_s``.

    A ping on every checkout is a round trip on every request. A connection returned a
    moment ago is as good as one just pinged; a connection that went stale meanwhile
    (the database restarted, a proxy cut it) fails its statement, which the API answers
    with a 503 (`app.api.problems`), and SQLAlchemy then invalidates the whole pool, so
    the next request reconnects. An idle connection, the one a restart leaves behind,
    is pinged as before: a dead one is replaced (``DisconnectionError`` makes the pool
    retry with a fresh connection) and the request does not see it."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn, record) -> None:
        record.info["idle_since"] = clock()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_conn, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or clock() - since < idle_s:
            return  # a fresh connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"idle connection is dead: {exc.__class__.__name__}") from exc


def _database_url() -> str:
    """The configured database; for the embedded default, its folder made first."""
    settings = get_settings()
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.effective_database_url



@lru_cache
def get_engine() -> Engine:
    return make_engine(_database_url(), pool_size=get_settings().db_pool_size)


@lru_cache
def get_read_engine() -> AsyncEngine | Engine:
    """The engine of read-only requests (``Reader``): on Postgres the same database
    through psycopg's async driver, in autocommit (no BEGIN and COMMIT round trips), with
    a pool of its own (``db_read_pool_size``; a connection is held only while a statement
    runs); on SQLite a plain engine whose statements run in autocommit, without the
    writers' BEGIN IMMEDIATE (a read takes no write lock)."""
    url = _database_url()
    if url.startswith("sqlite"):
        return make_engine(url, begin_immediate=False)
    engine = create_async_engine(url, pool_size=get_settings().db_read_pool_size, max_overflow=0,
                                 isolation_level="AUTOCOMMIT", connect_args=UTC_SESSION)
    ping_when_idle(engine.sync_engine)
    return engine


class _Prepared(NamedTuple):
    statement: Select  # held, so that its id (the key) is never another's
    sql: str  # in psycopg's %(name)s style
    fixed: dict[str, Any]  # parameters SQLAlchemy bound itself (literals in the statement)
    binds: dict[str, Callable[[Any], Any]]  # parameter -> the column type's bind processing
    types: list[Any]  # each result column's SQLAlchemy type
    results: list[tuple[int, Callable[[Any], Any]]] | None  # made at the first execution


_PREPARED: dict[int, _Prepared] = {}


def select_rows(session: Session, statement: Select, params: dict[str, Any]) -> list[tuple]:
    """The rows of ``statement``, each a tuple of its columns as SQLAlchemy would give them
    (its types' processing applied), in the session's transaction. Only for a statement
    built once, at import: it is compiled once a process.

    On Postgres the compiled SQL goes to psycopg directly. SQLAlchemy's own execution
    (its compiled-cache lookup, parameters, the result's metadata and Row objects) cost
    a deployment's view 1.0 ms of CPU, psycopg and the row mapping 0.4 ms.
    ``before_cursor_execute`` listeners are still told of the statement, but with no
    cursor and no execution context (enough to count or log statements; a listener that
    keeps state on the context is not served). Elsewhere (SQLite) it is
    ``session.execute(statement, params).all()``."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return [tuple(row) for row in session.execute(statement, params).all()]
    prepared = _PREPARED.get(id(statement))
    if prepared is None:
        compiled = statement.compile(dialect=connection.dialect)
        if compiled.post_compile_params:
            raise ValueError("select_rows takes no expanding (IN) parameters")
        fixed = {name: value for name, value in compiled.construct_params(_check=False).items()
                 if not compiled.binds[name].required}
        prepared = _PREPARED[id(statement)] = _Prepared(
            statement, str(compiled), fixed,
            dict(compiled._bind_processors),  # noqa: SLF001 (no public equivalent)
            [c.type for c in compiled._result_columns], None)  # noqa: SLF001
    values = {**prepared.fixed, **params}
    for name, process in prepared.binds.items():
        if name in values:
            values[name] = process(values[name])
    driver = connection.connection.driver_connection
    if connection.dispatch.before_cursor_execute:
        connection.dispatch.before_cursor_execute(connection, None, prepared.sql, values,
                                                  None, False)
    if isinstance(driver, psycopg.AsyncConnection):  # Reader's: inside its greenlet
        cursor = await_(driver.execute(prepared.sql, values))
        rows = await_(cursor.fetchall())
    else:
        cursor = driver.execute(prepared.sql, values)
        rows = cursor.fetchall()
    results = prepared.results
    if results is None:  # some processing depends on the type the server answers with
        results = [(i, process) for i, (type_, column) in
                   enumerate(zip(prepared.types, cursor.description, strict=True))
                   if (process := type_._cached_result_processor(  # noqa: SLF001
                       connection.dialect, column.type_code)) is not None]
        _PREPARED[id(statement)] = prepared._replace(results=results)
    if not results:
        return rows
    out = []
    for row in rows:
        row = list(row)
        for i, process in results:
            row[i] = process(row[i])
        out.append(tuple(row))
    return out


class Reader:
    """Read-only database work from the event loop: ``async with reading() as reader``,
    then ``await reader.run(fn, *args)`` is ``fn(session, *args)``, with the repositories'
    own (sync) code. Each statement runs in autocommit, so it sees what is committed and
    costs no round trips on BEGIN and COMMIT (the statements of one request are then not
    one snapshot, which a view of a deployment beside its usage does not need).

    On Postgres it is an ``AsyncSession.run_sync``: each statement is awaited on the loop
    (greenlets), so a GET never goes through the thread pool. On SQLite ``fn`` is called
    in place: a read of a local file in WAL mode takes microseconds and waits for no
    writer, and aiosqlite's thread hop per cursor call cost more than the read itself
    (a GET took 2.6 ms of CPU with it, 1.1 ms without). Nothing is ever committed."""

    def __init__(self, engine: AsyncEngine | Engine) -> None:
        self._session: AsyncSession | Session = (
            AsyncSession(engine, expire_on_commit=False) if isinstance(engine, AsyncEngine)
            else Session(bind=engine, expire_on_commit=False))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if isinstance(self._session, AsyncSession):
            return await self._session.run_sync(fn, *args)
        return fn(self._session, *args)

    async def close(self) -> None:
        if isinstance(self._session, AsyncSession):
            await self._session.close()
        else:
            self._session.close()

    async def __aenter__(self) -> Reader:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        with suppress(SQLAlchemyError):  # a dead connection cannot be reset; it is dropped
            await self.close()


def reading() -> Reader:
    """A ``Reader`` on the read engine, for ``async with``. Opened in the handler, not as
    a FastAPI dependency: a dependency that cleans up after the handler cost a GET 8 %
    of its CPU (the exit stack FastAPI keeps for it), more than the read's own session."""
    return Reader(get_read_engine())


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def call_after_commit(session: Session, callback: Callable[[], None]) -> None:
    session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        try:
            callback()
        except Exception:  # the DB is the truth; the periodic resync repairs a lost job
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)


@contextmanager
def session_scope(bind: Engine | None = None) -> Iterator[Session]:
    """A transaction on the app's engine, or on ``bind``."""
    session = get_sessionmaker()() if bind is None else Session(bind=bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
