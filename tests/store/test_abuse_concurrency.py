"""Concurrent community writes on PostgreSQL: the abuse threshold cannot be missed, a review race keeps one row."""

import threading

import pytest
from django.db import connection

from apps.constants import AppStatus
from apps.models import ActivityEvent, App
from store.community.services.abuse import abuse_report_submit
from store.community.services.reviews import review_upsert
from store.models import AbuseReport, Review
from tests.conftest import requires_postgres
from tests.factories import UserFactory, community_published_app, established_user

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def run_together(workers):
    """Start every worker behind one barrier so their transactions overlap; re-raise the first error."""
    barrier = threading.Barrier(len(workers))
    errors = []

    def wrap(fn):
        def target():
            try:
                barrier.wait(timeout=10)
                fn()
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()

        return target

    threads = [threading.Thread(target=wrap(fn)) for fn in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]


def test_simultaneous_reports_reaching_the_threshold_hide_the_app_once(settings):
    settings.ABUSE_HIDE_THRESHOLD = 3
    app = community_published_app("com.test.race")
    reporters = [established_user() for _ in range(3)]

    def reporter_job(user):
        return lambda: abuse_report_submit(
            app=App.objects.get(pk=app.pk), reporter=user, reason="spam", comment="race"
        )

    run_together([reporter_job(user) for user in reporters])
    app.refresh_from_db()
    assert AbuseReport.objects.filter(app=app).count() == 3
    assert app.status == AppStatus.PENDING_DISABLE
    assert ActivityEvent.objects.filter(app=app, type="app.status_changed").count() == 1


def test_two_first_reviews_by_one_user_at_once_keep_one_row():
    app = community_published_app("com.test.race2")
    user = UserFactory()

    def review_job(rating):
        return lambda: review_upsert(app=App.objects.get(pk=app.pk), user=user, rating=rating)

    run_together([review_job(2), review_job(5)])
    assert Review.objects.filter(app=app, user=user).count() == 1
