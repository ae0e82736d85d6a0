"""Hot single-row reads: a queryset compiled to SQL once per process, run as a prepared statement.

For the store's hottest lookups (the default listing, a cold download target) the ORM's work per request
(building and compiling the queryset, ~1 ms) and PostgreSQL's planning (0.35–0.6 ms) cost more than running
the index lookup itself (0.15 ms). ``CompiledQuery`` compiles the queryset once, with *probe* values standing
in for the per-call ones, and ``fetch_one`` runs the SQL as a server-side prepared statement on Django's own
connection (psycopg plans it once per connection).

The statement is prepared and executed through psycopg's libpq layer (``psycopg.pq``: ``PGconn.prepare``
and ``exec_prepared``, which release the GIL while they wait) with psycopg's own ``Transformer`` dumping the
parameters and loading the row, so values come back exactly as a cursor gives them. A cursor's
``execute(..., prepare=True)`` costs ~130 µs of CPU per read in psycopg's Python layers (cursor, generators,
prepare bookkeeping); this costs ~50 µs, on reads whose server time is ~60 µs. It runs only where it is the
same as a cursor: in autocommit with no transaction open, or inside an open transaction (the same session
and snapshot); while psycopg still owes a ``BEGIN`` (an atomic block's first statement) the read goes through a
plain cursor, unprepared: a statement psycopg itself prepared would make it send ``DEALLOCATE ALL`` at the
next ``ROLLBACK``, dropping this module's statements without its knowing.

Prepared statements outlive a transaction, so they do not survive a transaction-pooling PgBouncer:
``DB_PREPARED_READS=False`` turns them off (the SQL is then sent through Django's cursor). While Django is
logging queries (``DEBUG``, tests capturing them) reads also go through Django's cursor, so they are seen.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections


class CompiledQuery:
    """``build(**probes)`` returns the queryset; its SQL is compiled on first use and reused.

    Each probe must be a value no part of the query uses otherwise (it is located in the compiled
    parameters by equality) and within its column's range (Django compiles an out-of-range integer lookup
    to "no rows"); ``params(**values)`` gives the parameters with each probe replaced.
    """

    def __init__(self, build: Callable, **probes):
        self._build = build
        self._probes = probes
        self._compiled: tuple[str, tuple] | None = None
        self._lock = threading.Lock()

    @property
    def sql(self) -> str:
        return self._compile()[0]

    def _compile(self) -> tuple[str, tuple]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    sql, params = self._build(**self._probes).query.sql_with_params()
                    found = {name for name, probe in self._probes.items() if _contains(params, probe)}
                    if found != set(self._probes):  # pragma: no cover - a Django change
                        raise RuntimeError(f"probes {set(self._probes) - found} not found in {params!r}")
                    self._compiled = sql, tuple(params)
        return self._compiled

    def params(self, **values) -> list:
        if values.keys() != self._probes.keys():
            raise TypeError(f"expected values for {sorted(self._probes)}, got {sorted(values)}")
        by_probe = {_key(probe): values[name] for name, probe in self._probes.items()}
        params = []
        for param in self._compile()[1]:
            key = _key(param)
            if key in by_probe:
                value = by_probe[key]
                # Keep the type the ORM chose for the parameter (psycopg's Int4 for an integer column).
                params.append(type(param)(value) if type(param) not in (int, str) else value)
            else:
                params.append(param)
        return params

    def fetch_one(self, **values) -> tuple | None:
        return fetch_one(self.sql, self.params(**values))


def _key(value) -> tuple:
    """Compare by kind and value: the ORM may wrap a parameter (psycopg's ``Int4``, a ``TextChoices`` member),
    and a probe ``7`` must never match ``True``."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, str):
        return ("str", str(value))
    try:
        hash(value)
    except TypeError:
        return ("unhashable", id(value))
    return (type(value), value)


def _contains(params, probe) -> bool:
    return any(_key(param) == _key(probe) for param in params)


def fetch_one(sql: str, params: list) -> tuple | None:
    """The first row of ``sql``: a prepared statement on PostgreSQL (see the module docstring), else (and
    while queries are logged) through Django's cursor.

    ``CONN_HEALTH_CHECKS`` is kept without its extra round trip: Django would send ``SELECT 1`` before the
    request's first query on a reused connection; here the read itself is that check. If it fails on a
    connection not yet checked in this request (the server restarted, the connection was dropped while
    idle), the connection is reopened and the read sent once more, so the client never sees that failure.
    """
    db = connections[DEFAULT_DB_ALIAS]  # the thread's wrapper, once: each ``connection.x`` is a lookup
    if db.vendor == "postgresql" and settings.DB_PREPARED_READS and not db.queries_logged:
        unchecked = (
            db.connection is not None
            and db.health_check_enabled
            and not db.health_check_done
            and not db.in_atomic_block
        )
        try:
            row = _fetch_prepared(db, sql, params)
        except (OperationalError, InterfaceError):
            if not unchecked:
                raise
            db.close()
            row = _fetch_prepared(db, sql, params)
        db.health_check_done = True
        return row
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetch_prepared(db, sql: str, params: list) -> tuple | None:
    import psycopg
    from psycopg import pq

    if db.connection is None:
        db.ensure_connection()
    raw = db.connection
    status = raw.pgconn.transaction_status
    if status == pq.TransactionStatus.INTRANS or (status == pq.TransactionStatus.IDLE and raw.autocommit):
        with db.wrap_database_errors:
            return _Statement.of(sql).fetch_one(raw, params)
    # The first statement of a transaction (autocommit off, nothing sent yet): psycopg's cursor sends the
    # BEGIN. Not prepared: a statement psycopg prepares makes psycopg send DEALLOCATE ALL on the next
    # ROLLBACK (its cache maintenance), which would also drop this module's statements behind its back and
    # fail their next use inside a transaction. The hot reads run in autocommit and take the branch above.
    with db.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def forget_prepared_statements() -> None:
    """Tell this module that the current connection's server session lost its prepared statements (after
    a ``DEALLOCATE ALL`` or ``DISCARD ALL`` sent by hand). Outside a transaction a lost statement is
    noticed and prepared again by itself (the hot reads run in autocommit); inside one, its failed execution
    would abort the transaction, so whoever deallocates by hand must say so here."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.connection is not None:
        _Statement.forget(db.connection)


_PLACEHOLDER = re.compile(r"%%|%s")


class _Statement:
    """One SQL text as a named server-side prepared statement, prepared once per connection."""

    _by_sql: dict[str, _Statement] = {}
    # Names prepared on each psycopg connection; a new connection (Django reconnected) starts empty.
    _prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, sql: str):
        numbers = iter(range(1, sql.count("%s") + 1))
        self.pg_sql = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
        self.name = b"mosis_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20].encode()

    @classmethod
    def forget(cls, raw) -> None:
        cls._prepared.pop(raw, None)

    @classmethod
    def of(cls, sql: str) -> _Statement:
        statement = cls._by_sql.get(sql)
        if statement is None:
            statement = cls._by_sql[sql] = cls(sql)
        return statement

    def fetch_one(self, raw, params: list) -> tuple | None:
        from psycopg import pq
        from psycopg.adapt import PyFormat, Transformer

        prepared = self._prepared.setdefault(raw, set())
        transformer = Transformer(raw)
        values = transformer.dump_sequence(params, [PyFormat.TEXT] * len(params))
        for attempt in (1, 2):
            if self.name not in prepared:
                self._check(
                    raw, raw.pgconn.prepare(self.name, self.pg_sql.encode()), pq.ExecStatus.COMMAND_OK
                )
                prepared.add(self.name)
            result = raw.pgconn.exec_prepared(self.name, values, param_formats=transformer.formats)
            if (
                attempt == 1
                and result.status == pq.ExecStatus.FATAL_ERROR
                and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000"
            ):
                prepared.discard(self.name)  # DEALLOCATE ran on this session: prepare again, once
                continue
            self._check(raw, result, pq.ExecStatus.TUPLES_OK)
            break
        if not result.ntuples:
            return None
        transformer.set_pgresult(result)
        return transformer.load_row(0, tuple)

    @staticmethod
    def _check(raw, result, expected) -> None:
        import psycopg
        from psycopg import pq

        if result.status == expected:
            return
        if raw.pgconn.status == pq.ConnStatus.BAD:  # the server is gone: what a cursor raises then
            raise psycopg.OperationalError(
                f"the connection is lost: {result.error_message.decode(errors='replace')}"
            )
        raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)
