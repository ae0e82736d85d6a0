"""Shared base model and the idempotency records of SPEC §3."""

import uuid

from django.db import models


class BaseModel(models.Model):
    """UUID primary key (resource ids are UUID strings, SPEC §3) and timestamps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """The first response to a (client, Idempotency-Key) pair, replayed for 24 h."""

    client = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="uniq_idempotency_client_key")]


class OutboxMessage(models.Model):
    """A Celery task to send, written in the same transaction as the change that needs it (a transactional
    outbox). Sent right after commit; if the broker is down then, ``outbox_drain`` sends it later. Deleted
    once the broker took it, so the table holds only what is still owed."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self):
        return f"{self.task_name} {self.args}"
