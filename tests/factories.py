"""factory-boy factories for every model, in one place (STYLE §9)."""

import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"dev{n}@example.com")
    name = factory.Sequence(lambda n: f"Developer {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


def established_user(days_old: int = 30, **fields) -> User:
    """A user whose abuse reports count toward hiding an app: a verified email (allauth's EmailAddress) and
    an account ``days_old`` days old."""
    import datetime as dt

    from allauth.account.models import EmailAddress
    from django.utils import timezone

    user = UserFactory(**fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    User.objects.filter(pk=user.pk).update(created_at=timezone.now() - dt.timedelta(days=days_old))
    user.refresh_from_db()
    return user


# --- apps -------------------------------------------------------------------------------------------
from apps.models import App, Category  # noqa: E402


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    position = factory.Sequence(lambda n: n)


class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    owner = factory.SubFactory(UserFactory)
    package_id = factory.Sequence(lambda n: f"com.example.app{n}")
    name = factory.Sequence(lambda n: f"App {n}")
    description = "A useful app."
    category = factory.SubFactory(CategoryFactory)
    tags = factory.LazyFunction(lambda: ["tools"])


# --- store community: published apps with versions, and devices (reviews, abuse, device tests) -----------
from django.utils import timezone as _community_tz  # noqa: E402

from accounts.models import Device  # noqa: E402
from accounts.tokens import hash_secret, new_device_token  # noqa: E402
from versions.constants import mosis_version_number  # noqa: E402
from versions.models import AppVersion  # noqa: E402


def community_version(
    app,
    version_name: str,
    version_code: int | None = None,
    *,
    dependencies: dict | None = None,
    dependency_rules: dict | None = None,
    min_mosis: str = "",
    max_mosis: str = "",
    yanked: bool = False,
    status: str = "published",
) -> AppVersion:
    """A version straight in the database (no upload pipeline), published unless told otherwise."""
    if version_code is None:
        major, minor, patch = (int(x) for x in version_name.split("-")[0].split("."))
        version_code = major * 10000 + minor * 100 + patch
    now = _community_tz.now()
    return AppVersion.objects.create(
        app=app,
        version_name=version_name,
        version_code=version_code,
        status=status,
        package_key=f"packages/{app.package_id}/{version_code}.mpk",
        package_size=1234,
        sha256="ab" * 32,
        dependencies=dependencies or {},
        dependency_rules=dependency_rules or {},
        min_mosis_version=min_mosis,
        max_mosis_version=max_mosis,
        min_mosis_num=mosis_version_number(min_mosis or None),
        max_mosis_num=mosis_version_number(max_mosis or None),
        release_notes=f"Release {version_name}",
        published_at=now if status == "published" else None,
        yanked_at=now if yanked else None,
    )


def community_published_app(
    package_id: str | None = None, *, versions=("1.0.0",), status="published", **kwargs
):
    """An app with published versions and a fresh AppListing row (``versions``: names, or (name, deps))."""
    from store.catalog.services.listing import listing_refresh, listing_refresh_ratings

    if package_id is not None:
        kwargs["package_id"] = package_id
    app = AppFactory(status=status, **kwargs)
    for item in versions:
        name, deps = (item, None) if isinstance(item, str) else item
        community_version(app, name, dependencies=deps)
    listing_refresh(app_id=app.pk)
    listing_refresh_ratings(app_id=app.pk)
    return app


def community_device(mosis_version: str = "1.5", platform: str = "mosis-os") -> tuple[Device, str]:
    """A registered device and its ``md_`` token (the secret, shown once)."""
    token = new_device_token()
    device = Device.objects.create(
        platform=platform, mosis_version=mosis_version, token_hash=hash_secret(token)
    )
    return device, token


# --- versions -------------------------------------------------------------------------------------------
from versions.constants import VersionStatus as _VersionStatus  # noqa: E402
from versions.models import AppVersion as _AppVersion  # noqa: E402


class AppVersionFactory(factory.django.DjangoModelFactory):
    """A version row in any status (``status=...``); a draft by default. For pipeline tests, go through
    ``versions.services`` (or ``tests.versions.pipeline``) instead."""

    class Meta:
        model = _AppVersion

    app = factory.SubFactory(AppFactory)
    version_code = factory.Sequence(lambda n: n + 1)
    version_name = factory.LazyAttribute(lambda o: f"1.{o.version_code}.0")
    release_notes = "Bug fixes."
    status = _VersionStatus.DRAFT
    package_key = factory.LazyAttribute(lambda o: f"apps/{o.app.id}/{o.version_code}.mpk")
    package_size = 1024
    sha256 = "0" * 64
    permissions = factory.LazyFunction(lambda: ["network"])
    min_mosis_version = "1.0"
    min_mosis_num = 1_000_000
