"""Developers and their credentials: API keys, signing keys, devices (SPEC §4)."""

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from mosis.core.models import BaseModel

from .constants import SigningAlgorithm


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A developer (seed 000 ``Developer``); staff users are reviewers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None
    first_name = None
    last_name = None
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()

    def __str__(self):
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]


class ApiKey(BaseModel):
    """``mk_live_...`` key: only its SHA-256 is stored; the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=20)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    credential_kind = "apikey"

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"


class SigningKey(BaseModel):
    """A developer's public key for package signatures. Revoking keeps the record (SPEC §5)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signing_keys")
    name = models.CharField(max_length=100)
    algorithm = models.CharField(max_length=20, choices=SigningAlgorithm.choices)
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="uniq_signing_key_per_user"),
        ]

    def __str__(self):
        return f"{self.name} ({self.fingerprint[:16]})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Device(BaseModel):
    """A device or editor installation; authenticates with an ``md_`` token stored as SHA-256."""

    platform = models.CharField(max_length=50)
    mosis_version = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    credential_kind = "device"

    def __str__(self):
        return f"{self.platform} {self.mosis_version} ({self.id})"
