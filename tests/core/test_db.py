"""mosis.core.db: a queryset compiled once with probe values, run as a prepared statement on PostgreSQL."""

import pytest
from django.db import connection, transaction

from apps.models import Category
from mosis.core.db import CompiledQuery, fetch_one, forget_prepared_statements
from tests.conftest import requires_postgres

pytestmark = pytest.mark.django_db


def _categories(slug, position):
    return Category.objects.filter(slug=slug, position__gte=position).values_list("name", "position")[:1]


LOOKUP = CompiledQuery(_categories, slug="\x00probe:slug", position=32_101)  # within a small integer column


def test_compiled_query_substitutes_each_probe_and_keeps_the_other_parameters():
    assert sorted(map(str, LOOKUP.params(slug="tools", position=3))) == ["3", "tools"]
    compiled_once = LOOKUP.sql
    LOOKUP.params(slug="other", position=1)
    assert LOOKUP.sql is compiled_once
    with pytest.raises(TypeError):
        LOOKUP.params(slug="tools")  # every probe needs its value


def test_compiled_query_reads_the_same_row_as_the_orm():
    Category.objects.create(name="Tools", slug="tools", position=5)
    assert LOOKUP.fetch_one(slug="tools", position=5) == tuple(_categories("tools", 5)[0])
    assert LOOKUP.fetch_one(slug="tools", position=6) is None
    assert LOOKUP.fetch_one(slug="nope", position=0) is None


def test_queries_being_logged_go_through_djangos_cursor(django_assert_num_queries):
    with django_assert_num_queries(1):
        LOOKUP.fetch_one(slug="tools", position=0)


@requires_postgres
def test_postgres_reads_are_prepared_on_djangos_connection(settings):
    settings.DB_PREPARED_READS = True
    Category.objects.create(name="Prepared", slug="prepared", position=1)
    for _ in range(2):
        assert LOOKUP.fetch_one(slug="prepared", position=1) == ("Prepared", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%apps_category%"]
        )
        assert cursor.fetchone()[0] >= 1


@requires_postgres
def test_prepared_reads_can_be_turned_off(settings):
    settings.DB_PREPARED_READS = False
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    forget_prepared_statements()  # inside the test's transaction a lost statement cannot be re-prepared
    assert fetch_one("SELECT %s::int + 1", [41]) == (42,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_while_idle_is_reopened_without_failing_the_read(settings):
    """What CONN_HEALTH_CHECKS promises, without its SELECT 1: the server ended the connection between two
    requests (a restart, an idle timeout); the next request's read reconnects and answers."""
    import psycopg

    settings.DB_PREPARED_READS = True
    connection.ensure_connection()
    connection.health_check_enabled = True
    assert fetch_one("SELECT %s::int + 1", [1]) == (2,)
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.health_check_done = False  # as at the start of the next request
    assert fetch_one("SELECT %s::int + 1", [41]) == (42,)
    assert connection.connection.info.backend_pid != pid and connection.health_check_done


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_request_is_an_error(settings):
    """Once the request has used the connection, a failure is real: no silent retry."""
    import psycopg
    from django.db import OperationalError

    settings.DB_PREPARED_READS = True
    connection.ensure_connection()
    assert fetch_one("SELECT 1", []) == (1,)
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    with pytest.raises(OperationalError):
        fetch_one("SELECT 1", [])
    connection.close()


TYPED = (
    "SELECT %s::uuid, %s::int, %s::text, %s::bool, NULL::text, %s::jsonb, now() > %s::timestamptz, '100%%'"
)


def _typed_params():
    import datetime as dt
    import uuid

    return [uuid.UUID(int=7), 5, "naïve ünïcode", True, '{"a": [1]}', dt.datetime(2020, 1, 1, tzinfo=dt.UTC)]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_reads_give_exactly_what_a_cursor_gives(settings):
    """In autocommit (production's state between queries) the read goes through libpq's prepare/exec with
    psycopg's own adapters: every type comes back as Django's cursor returns it, a literal %% stays one."""
    from psycopg import pq

    settings.DB_PREPARED_READS = True
    connection.ensure_connection()
    assert connection.connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with connection.cursor() as cursor:
        cursor.execute(TYPED, _typed_params())
        expected = cursor.fetchone()
    for _ in range(2):  # prepared by the first, reused by the second
        assert fetch_one(TYPED, _typed_params()) == expected
    assert expected[4] is None and expected[7] == "100%"
    assert fetch_one("SELECT 1 WHERE %s::int > 1", [1]) is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE statement LIKE %s", ["%now() >%"])
        assert [row[0] for row in cursor.fetchall()] == [f"mosis_{_sha(TYPED)}"]


def _sha(sql):
    import hashlib

    return hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:20]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_deallocated_on_the_session_is_prepared_again(settings):
    settings.DB_PREPARED_READS = True
    assert fetch_one("SELECT %s::int * 2", [4]) == (8,)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    assert fetch_one("SELECT %s::int * 2", [5]) == (10,)  # noticed, prepared again
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    forget_prepared_statements()
    with transaction.atomic():  # told: prepared before use inside the transaction, never a failed execution
        assert fetch_one("SELECT %s::int * 2", [6]) == (12,)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_prepared_read_raises_djangos_error_and_leaves_the_connection_usable(settings):
    from django.db import DataError, ProgrammingError

    settings.DB_PREPARED_READS = True
    with pytest.raises(DataError):
        fetch_one("SELECT %s::int", ["not a number"])
    with pytest.raises(ProgrammingError):
        fetch_one("SELECT * FROM no_such_table WHERE id = %s", [1])
    assert fetch_one("SELECT %s::int", [3]) == (3,)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_reads_inside_an_atomic_block_see_its_writes(settings):
    """Before the block's BEGIN is sent the read takes psycopg's cursor (which sends it); once the
    transaction is open, the prepared read runs in it and sees its uncommitted rows."""
    from django.db import transaction

    settings.DB_PREPARED_READS = True
    with transaction.atomic():
        assert LOOKUP.fetch_one(slug="atomic", position=0) is None  # first statement: BEGIN goes first
        Category.objects.create(name="Atomic", slug="atomic", position=2)
        assert LOOKUP.fetch_one(slug="atomic", position=0) == ("Atomic", 2)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM apps_category WHERE slug = 'atomic'")
            assert cursor.fetchone()[0] == 1
        transaction.set_rollback(True)
    assert not Category.objects.filter(slug="atomic").exists()
    assert LOOKUP.fetch_one(slug="atomic", position=0) is None


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_the_prepared_reads_usable(settings):
    """psycopg sends DEALLOCATE ALL at a ROLLBACK when it prepared statements of its own; the read that
    opens a transaction must not be one of them, or every statement of this module is dropped unseen and
    its next use inside a transaction aborts that transaction (found by CI's test order)."""
    settings.DB_PREPARED_READS = True
    assert fetch_one("SELECT %s::int * 7", [1]) == (7,)  # prepared, in autocommit
    with pytest.raises(RuntimeError), transaction.atomic():
        assert fetch_one("SELECT %s::int * 11", [1]) == (11,)  # the transaction's first statement
        raise RuntimeError("roll back")
    with transaction.atomic():
        Category.objects.count()  # the transaction is open: the read below takes the prepared path
        assert fetch_one("SELECT %s::int * 7", [2]) == (14,)
