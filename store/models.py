"""Everything public: the listing read model, download counts, reviews, abuse reports, device installs."""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from mosis.core.models import BaseModel


class AppListing(models.Model):
    """Denormalised read model of one App for browse/search/listing (one row per app).

    Maintained by ``store.services`` on publish, yank, status change, metadata edit, review and download
    rollups, so public reads never aggregate on the fly.
    """

    app = models.OneToOneField("apps.App", primary_key=True, on_delete=models.CASCADE, related_name="listing")
    listed = models.BooleanField(default=False)  # published app with a published, non-yanked version
    package_id = models.CharField(max_length=150, unique=True)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=30)
    source = models.CharField(max_length=30, default="mosis")  # App.source (seed 004's ?source= filter)
    category = models.ForeignKey("apps.Category", null=True, blank=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=150, blank=True)
    latest_version = models.ForeignKey(
        "versions.AppVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_published_at = models.DateTimeField(null=True, blank=True)
    # Sanitized HTML of App.long_description, rendered by listing_refresh (None: not rendered yet).
    long_description_html = models.TextField(null=True, blank=True)
    # The default listing (no mosis_version) as JSON, pre-rendered by listing_refresh for reachable apps,
    # minus the figures that move without it (downloads, ratings: spliced in from this row at read time,
    # see store.catalog.services.listing.listing_document_body). None: not rendered (hidden app, or not yet filled).
    listing_document = models.TextField(null=True, blank=True)
    downloads_total = models.BigIntegerField(default=0)
    downloads_recent = models.BigIntegerField(default=0)  # last 7 UTC days
    rating_count = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    ratings_1 = models.IntegerField(default=0)
    ratings_2 = models.IntegerField(default=0)
    ratings_3 = models.IntegerField(default=0)
    ratings_4 = models.IntegerField(default=0)
    ratings_5 = models.IntegerField(default=0)
    rating_score = models.FloatField(default=0.0)  # Bayesian average used by sort=rating
    search_vector = SearchVectorField(
        null=True, blank=True
    )  # PostgreSQL full-text (name > tags > description)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["listed", "-downloads_recent", "-downloads_total"], name="listing_popular"),
            models.Index(fields=["listed", "-last_published_at"], name="listing_recent"),
            models.Index(fields=["listed", "name"], name="listing_name"),
            models.Index(fields=["listed", "-rating_score"], name="listing_rating"),
            models.Index(fields=["listed", "type"], name="listing_type"),
            models.Index(fields=["listed", "source"], name="listing_source"),
            models.Index(fields=["listed", "category"], name="listing_category"),
        ]

    def __str__(self):
        return self.package_id


class SearchWord(models.Model):
    """The search vocabulary: each distinct word of listed apps' names and tags, lower-cased, with the number
    of listed apps that use it.

    Small (one row per word, not per app) and trigram-indexed on PostgreSQL (GiST, ``<->`` nearest first), so
    a query word that is not in it is corrected to its nearest word without touching the listing rows
    (``store.catalog.services.search_words``; docs/api/store.md "Typo tolerance"). ``listing_refresh`` adds
    a listed app's words; ``manage.py rebuild_search_words`` recounts them and drops the words no listed app
    uses any more.
    """

    word = models.CharField(max_length=40, primary_key=True)
    apps = models.IntegerField(default=1)

    def __str__(self):
        return self.word


class DownloadDaily(models.Model):
    """Distinct-client downloads of one version on one UTC day."""

    version = models.ForeignKey(
        "versions.AppVersion", on_delete=models.CASCADE, related_name="daily_downloads"
    )
    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="daily_downloads")
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "day"], name="uniq_download_daily")]
        indexes = [models.Index(fields=["app", "day"]), models.Index(fields=["day"])]


class DownloadEvent(models.Model):
    """One counted download: unique per (client, version, UTC day), so retries and bots do not inflate counts.

    Inserted with ``ON CONFLICT DO NOTHING`` (no hot counter row); rolled up into DownloadDaily/AppListing.
    """

    version = models.ForeignKey("versions.AppVersion", on_delete=models.CASCADE, related_name="+")
    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    client_hash = models.CharField(max_length=64)
    rolled_up = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "day", "client_hash"], name="uniq_download_per_client_day"
            )
        ]
        indexes = [models.Index(fields=["rolled_up", "day"], name="download_event_pending")]


class Review(BaseModel):
    """One rating (and optional review) per user per app; a second one replaces the first (seed 001)."""

    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True, max_length=5000)
    version_name = models.CharField(max_length=64, blank=True)
    hidden = models.BooleanField(default=False)  # staff moderation

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["app", "user"], name="uniq_review_per_user"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_5"),
        ]
        indexes = [models.Index(fields=["app", "hidden", "-created_at"])]


class ReviewReply(BaseModel):
    """The app developer's single reply to a review."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="reply")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=5000)


class AbuseReason(models.TextChoices):
    MALWARE = "malware", "Malware"
    SPAM = "spam", "Spam"
    BROKEN = "broken", "Broken"
    IMPERSONATION = "impersonation", "Impersonation"
    OTHER = "other", "Other"


class AbuseReport(BaseModel):
    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="abuse_reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="abuse_reports"
    )
    reason = models.CharField(max_length=20, choices=AbuseReason.choices)
    comment = models.TextField(blank=True, max_length=5000)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["app", "-created_at"])]


class DeviceApp(models.Model):
    """The installed set a device last reported (seed 002)."""

    device = models.ForeignKey("accounts.Device", on_delete=models.CASCADE, related_name="installed_apps")
    package_id = models.CharField(max_length=150)
    version_code = models.PositiveIntegerField()
    # What the device reported of the app's configuration (e.g. enabled features), checked against the
    # config its dependents require (seed 002 ``incompatible-config``); bounded by store.devices.services.installed.
    config = models.JSONField(default=dict, blank=True)
    reported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "package_id"], name="uniq_device_package")]


class CatalogDocument(models.Model):
    """The served catalog file of one base URL (``SITE_URL``, else each host the store is read from): where it
    lives in package storage and what a 304 needs, so a conditional request never touches the file or Redis.

    ``etag`` is empty until the worker built a first document; ``build_requested_at`` is set while a build is
    enqueued (at most one at a time, see ``store.catalog.services.document``).
    """

    base_url = models.CharField(max_length=300, unique=True)
    format = models.PositiveSmallIntegerField(default=0)
    etag = models.CharField(max_length=64, blank=True)  # quoted strong ETag of the identity form
    key = models.CharField(max_length=200, blank=True)
    size = models.BigIntegerField(default=0)
    gzip_key = models.CharField(max_length=200, blank=True)
    gzip_size = models.BigIntegerField(default=0)
    # S3's own ETags of the two objects: what a client redirected to them sees, so If-None-Match carrying one
    # also answers 304.
    storage_etags = models.JSONField(default=list, blank=True)
    count = models.IntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    content = models.CharField(max_length=64, blank=True)  # SHA-256 of the document minus generated_at
    previous_keys = models.JSONField(default=list, blank=True)  # the replaced document's files (deleted next)
    build_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.base_url} {self.etag}"


class CatalogBuild(models.Model):
    """A catalog document that was served: its ETag and when it was generated, so ``?since=<etag>`` knows from
    when to answer changes. Kept ``CATALOG_DELTA_RETENTION_DAYS``."""

    etag = models.CharField(max_length=64, db_index=True)
    base_url = models.CharField(max_length=300)
    generated_at = models.DateTimeField(db_index=True)


class CatalogEntryState(models.Model):
    """When one app's catalog entry last changed or left the catalog (``removed``), as the worker found
    comparing each build's rendered entry with the previous one (``digest``, host-independent).
    Removed entries (tombstones) are kept ``CATALOG_DELTA_RETENTION_DAYS``."""

    package_id = models.CharField(max_length=150, primary_key=True)
    digest = models.CharField(max_length=40, blank=True)
    changed_at = models.DateTimeField()
    removed = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["changed_at"], name="catalog_entry_changed")]
