"""Hot single-row reads: a queryset compiled to SQL once per process, run as a prepared statement.

For the store's hottest lookups (the default listing, a cold download target) the ORM's work per request
(building and compiling the queryset, ~1 ms) and PostgreSQL's planning (0.35–0.6 ms) cost more than running
the index lookup itself (0.15 ms). ``CompiledQuery`` compiles the queryset once, with *probe* values standing
in for the per-call ones, and ``fetch_one`` runs the SQL as a server-side prepared statement on Django's own
connection (psycopg plans it once per connection).

Prepared statements outlive a transaction, so they do not survive a transaction-pooling PgBouncer:
``DB_PREPARED_READS=False`` turns them off (the SQL is then sent through Django's cursor). While Django is
logging queries (``DEBUG``, tests capturing them) reads also go through Django's cursor, so they are seen.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection


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
    if connection.vendor == "postgresql" and settings.DB_PREPARED_READS and not connection.queries_logged:
        unchecked = (
            connection.connection is not None
            and connection.health_check_enabled
            and not connection.health_check_done
            and not connection.in_atomic_block
        )
        try:
            row = _fetch_prepared(sql, params)
        except (OperationalError, InterfaceError):
            if not unchecked:
                raise
            connection.close()
            row = _fetch_prepared(sql, params)
        connection.health_check_done = True
        return row
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _fetch_prepared(sql: str, params: list) -> tuple | None:
    import psycopg

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off (prepare_threshold=None), which also refuses prepare=True. Its own
        # queries run on client-side binding cursors, which never prepare; so a threshold no query
        # reaches leaves only these explicit prepares.
        raw.prepare_threshold = sys.maxsize
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()
