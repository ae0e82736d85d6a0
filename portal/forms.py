"""Portal forms: Django forms for the page (labels, widgets, ids, help), validated by the API's serializers.

Each form turns what the browser sent into the API's JSON shape (``api_data``) and runs the same DRF
serializer the ``/v1`` endpoint runs, so a field gets the very message the API would give; the form then
calls the same service as the endpoint, and an ``ApplicationError`` it raises lands on the form
(``add_application_error``) instead of becoming an error page. The Django fields themselves validate
nothing (no ``strip``, no length, no choices): the serializer is the one judge.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.utils.dateparse import parse_date

from accounts.constants import Scope
from accounts.serializers import ApiKeyCreateSerializer, SigningKeyCreateSerializer
from apps.constants import WebhookEvent
from apps.models import Category
from apps.serializers import AppCreateSerializer, AppUpdateSerializer
from apps.webhooks.addresses import MAX_URL_LENGTH
from apps.webhooks.serializers import WebhookCreateSerializer
from apps.webhooks.services import SECRET_MAX_LENGTH, SECRET_MIN_LENGTH
from mosis.core.errors import ApplicationError
from telemetry.constants import APP_VERSION_MAX_LENGTH
from telemetry.serializers import AnalyticsQuerySerializer, CrashQuerySerializer
from versions.serializers import UploadCompleteSerializer, VersionCreateSerializer


def text(
    label: str, *, required=False, max_length=None, help_text="", widget=None, **attrs
) -> forms.CharField:
    """A lenient text field: what the browser sent, untouched, for the serializer to judge."""
    widget = widget or forms.TextInput()
    if max_length:
        widget.attrs["maxlength"] = max_length
    if required:
        widget.attrs["required"] = True
    widget.attrs.update(attrs)
    return forms.CharField(label=label, required=False, strip=False, help_text=help_text, widget=widget)


class ListOfValues(forms.Field):
    """Checkbox group → a list of the ticked values (judged by the serializer, not by Django)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        return [str(item) for item in (value or [])]


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's nested errors → ``{field: [messages]}``; a list item's errors read "Item 2: …"."""
    out: dict[str, list[str]] = {}
    for field, value in errors.items() if isinstance(errors, dict) else [("", errors)]:
        name = prefix or str(field)
        if isinstance(value, dict):
            for index, sub in value.items():
                label = f"Item {int(index) + 1}: " if str(index).isdigit() else f"{index}: "
                for messages in flatten_errors({"": sub}).values():
                    out.setdefault(name, []).extend(label + m for m in messages)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict | list):
                    for messages in flatten_errors({"": item}).values():
                        out.setdefault(name, []).extend(messages)
                else:
                    out.setdefault(name, []).append(str(item))
        else:
            out.setdefault(name, []).append(str(value))
    return out


class ApiForm(forms.Form):
    """A form whose rules are the API serializer's (``serializer_class``); ``validated`` holds its output."""

    serializer_class: type | None = None
    serializer_partial = False
    template_name = "portal/_form_fields.html"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validated: dict = {}

    def __getitem__(self, name):
        bound = super().__getitem__(name)
        # Screen readers read a field's help and its errors with it (includes/field.html renders both ids).
        described = [f"{bound.auto_id}_helptext"] if bound.help_text else []
        bound.field.widget.attrs["aria-describedby"] = " ".join([*described, f"{bound.auto_id}_errors"])
        return bound

    def api_data(self) -> dict:
        """The request body the endpoint would get; by default the fields as sent (names are the API's)."""
        return dict(self.cleaned_data)

    def clean(self):
        cleaned = super().clean()
        serializer = self.serializer_class(data=self.api_data(), partial=self.serializer_partial)
        if serializer.is_valid():
            self.validated = dict(serializer.validated_data)
        else:
            self.add_field_errors(flatten_errors(serializer.errors))
        return cleaned

    def add_field_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            name = field.split(".", 1)[0]
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
            else:
                for message in messages:
                    self.add_error(
                        None, message if name in ("", "non_field_errors") else f"{name}: {message}"
                    )

    def add_application_error(self, error: ApplicationError) -> None:
        """A service's refusal on the form: its field details next to the fields, else its message on top."""
        if error.details:
            self.add_field_errors({k: [str(m) for m in v] for k, v in error.details.items()})
            if not any(k.split(".", 1)[0] in self.fields for k in error.details):
                self.add_error(None, error.message)
        else:
            self.add_error(None, error.message)

    def error_summary(self) -> dict[str, list[str]]:
        """For the JSON answers of the upload script: ``{field or "__all__": [messages]}``."""
        return {name: [str(m) for m in messages] for name, messages in self.errors.items()}


def default_app_type() -> str:
    return "app" if "app" in settings.APP_TYPES else settings.APP_TYPES[0]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _comma_list(value: str) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


class AppForm(ApiForm):
    """Create (with ``package_id``) or edit an app: every field ``POST/PATCH /v1/apps`` takes."""

    package_id = text(
        "Package id",
        required=True,
        max_length=150,
        help_text="Lowercase reverse-domain id such as com.example.notes. It can never change.",
        autocomplete="off",
        spellcheck="false",
    )
    name = text("Name", required=True, max_length=100)
    description = text(
        "Short description",
        max_length=500,
        help_text="One or two sentences shown on the store's cards.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    long_description = text(
        "Long description",
        max_length=20000,
        help_text="Markdown. Scripts, event handlers and unsafe links are removed when it is shown.",
        widget=forms.Textarea(attrs={"rows": 10, "data-markdown-preview": "long-description-preview"}),
    )
    category = text("Category", widget=forms.Select())
    type = text("Type", widget=forms.Select())
    tags = text("Tags", help_text="Comma-separated, at most 20, each at most 30 characters.")
    icon_url = text(
        "Icon URL",
        max_length=500,
        help_text="A square PNG over https. Leave empty to show the icon packaged in your latest version.",
        widget=forms.URLInput(),
    )
    screenshots = text(
        "Screenshots",
        help_text="One https URL per line, at most 10, in the order to show them.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    homepage_url = text("Homepage URL", max_length=500, widget=forms.URLInput())
    support_url = text("Support URL", max_length=500, widget=forms.URLInput())
    requires_restart = forms.BooleanField(
        label="Installing or updating it requires a restart of the host", required=False
    )

    def __init__(self, data=None, *, app=None, **kwargs):
        self.creating = app is None
        if app is not None and data is None:
            kwargs["initial"] = {
                "name": app.name,
                "description": app.description,
                "long_description": app.long_description,
                "category": app.category.slug if app.category_id else "",
                "type": app.type,
                "tags": ", ".join(app.tags or []),
                "icon_url": app.icon_url,
                "screenshots": "\n".join(app.screenshots or []),
                "homepage_url": app.homepage_url,
                "support_url": app.support_url,
                "requires_restart": app.requires_restart,
            }
        super().__init__(data, **kwargs)
        if not self.creating:
            del self.fields["package_id"]
        self.fields["category"].widget.choices = [("", "No category")] + [
            (c.slug, c.name) for c in Category.objects.order_by("position", "name")
        ]
        self.fields["type"].widget.choices = [(t, t.title()) for t in settings.APP_TYPES]
        if self.creating:
            self.fields["type"].initial = default_app_type()

    @property
    def serializer_class(self):
        return AppCreateSerializer if self.creating else AppUpdateSerializer

    def api_data(self) -> dict:
        data = self.cleaned_data
        body = {
            "name": data.get("name", ""),
            "description": data.get("description", ""),
            "long_description": data.get("long_description", ""),
            "category": data.get("category") or None,
            "tags": _comma_list(data.get("tags", "")),
            "type": data.get("type") or default_app_type(),
            "icon_url": (data.get("icon_url") or "").strip(),
            "screenshots": _lines(data.get("screenshots", "")),
            "homepage_url": (data.get("homepage_url") or "").strip(),
            "support_url": (data.get("support_url") or "").strip(),
            "requires_restart": bool(data.get("requires_restart")),
        }
        if self.creating:
            body["package_id"] = data.get("package_id", "")
        return body


class VersionCreateForm(ApiForm):
    """``POST /v1/apps/{id}/versions``: the version record; the package goes straight to storage."""

    serializer_class = VersionCreateSerializer

    version_name = text(
        "Version name",
        required=True,
        max_length=64,
        help_text="Semantic version, e.g. 1.4.0.",
        autocomplete="off",
    )
    version_code = text(
        "Version code",
        required=True,
        help_text="A whole number greater than every earlier version's code of this app.",
        inputmode="numeric",
        autocomplete="off",
    )
    release_notes = text(
        "Release notes",
        max_length=10000,
        help_text="What changed; shown in the store's changelog.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    size = text("Package size in bytes", widget=forms.HiddenInput())

    def api_data(self) -> dict:
        data = self.cleaned_data
        body = {
            "version_name": data.get("version_name", ""),
            "version_code": data.get("version_code", ""),
            "release_notes": data.get("release_notes", ""),
        }
        if (data.get("size") or "").strip():
            body["size"] = data["size"].strip()
        return body


class UploadCompleteForm(ApiForm):
    """``PUT .../upload-complete``: the optional signature and the signing key that made it."""

    serializer_class = UploadCompleteSerializer

    signing_key_id = text("Signing key", widget=forms.Select())
    signature = text(
        "Signature",
        max_length=2048,
        help_text="Base64 signature of the exact file you upload (see the package format guide, Signing).",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
    )

    def __init__(self, *args, signing_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signing_key_id"].widget.choices = [("", "Not signed")] + [
            (str(key.pk), f"{key.name} ({key.fingerprint[:16]}…)") for key in signing_keys
        ]

    def api_data(self) -> dict:
        data = self.cleaned_data
        return {
            "signature": (data.get("signature") or "").strip(),
            "signing_key_id": data.get("signing_key_id") or None,
        }


class ApiKeyForm(ApiForm):
    """``POST /v1/keys``: name, scopes and an optional last day of validity."""

    serializer_class = ApiKeyCreateSerializer

    name = text(
        "Name", required=True, max_length=100, help_text="Where the key is used, e.g. “CI release job”."
    )
    permissions = ListOfValues(
        label="Scopes",
        required=False,
        widget=forms.CheckboxSelectMultiple(choices=Scope.choices),
        help_text="Give a key only what its job needs.",
    )
    expires_on = text(
        "Valid until (UTC date)",
        help_text="Optional: the key stops working at the end of this day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def api_data(self) -> dict:
        data = self.cleaned_data
        body = {
            "name": data.get("name", ""),
            "permissions": data.get("permissions") or [],
            "expires_at": None,
        }
        raw = (data.get("expires_on") or "").strip()
        if raw:
            try:
                day = parse_date(raw)
            except ValueError:
                day = None
            if day is None:
                self.add_error("expires_on", "Enter a date as YYYY-MM-DD.")
            else:
                body["expires_at"] = datetime.combine(
                    day + timedelta(days=1), time.min, tzinfo=UTC
                ).isoformat()
        return body

    def add_field_errors(self, errors):
        # The API names the expiry expires_at; the page asks for a day.
        super().add_field_errors({("expires_on" if k == "expires_at" else k): v for k, v in errors.items()})


class SigningKeyForm(ApiForm):
    """``POST /v1/signing-keys``: a PEM public key (Ed25519, ECDSA P-256 or RSA ≥ 2048)."""

    serializer_class = SigningKeyCreateSerializer

    name = text("Name", required=True, max_length=100, help_text="e.g. “release 2026”.")
    public_key = text(
        "Public key (PEM)",
        required=True,
        help_text="The public half only: -----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----.",
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false", "autocomplete": "off"}),
    )


def _sent(data: dict, names) -> dict:
    """The query parameters actually filled in: an empty box means "the default", not "empty"."""
    return {name: data[name] for name in names if (data.get(name) or "").strip()}


class AnalyticsRangeForm(ApiForm):
    """``GET /v1/apps/{id}/analytics``'s date range (``AnalyticsQuerySerializer``: at most 366 days, start
    not after end, defaults to the last 30 days). ``validated`` holds ``start``, ``end`` and ``metrics``."""

    serializer_class = AnalyticsQuerySerializer

    start_date = text("From (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
    end_date = text("To (UTC day, inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def api_data(self) -> dict:
        return _sent(self.cleaned_data, ("start_date", "end_date"))


class CrashFilterForm(ApiForm):
    """``GET /v1/apps/{id}/crashes``'s ``version`` filter (``CrashQuerySerializer``)."""

    serializer_class = CrashQuerySerializer

    version = text(
        "App version",
        max_length=APP_VERSION_MAX_LENGTH,
        help_text="Only groups seen in this version, with its counts.",
        autocomplete="off",
    )

    def api_data(self) -> dict:
        return _sent(self.cleaned_data, ("version",))


class WebhookForm(ApiForm):
    """``POST /v1/webhooks``: the receiver's URL, the events and an optional secret of one's own."""

    serializer_class = WebhookCreateSerializer

    url = text(
        "Payload URL",
        required=True,
        max_length=MAX_URL_LENGTH,
        help_text="An https URL on a public address; each event is POSTed there as signed JSON.",
        widget=forms.URLInput(),
        autocomplete="off",
        spellcheck="false",
    )
    events = ListOfValues(
        label="Events",
        required=False,
        widget=forms.CheckboxSelectMultiple(choices=WebhookEvent.choices),
        help_text="At least one. They fire for all your apps; each delivery names the app (and version).",
    )
    secret = text(
        "Secret (optional)",
        max_length=SECRET_MAX_LENGTH,
        help_text=f"{SECRET_MIN_LENGTH}–{SECRET_MAX_LENGTH} printable ASCII characters. Leave empty and the "
        "store makes one (whsec_…); either way it is shown once, after you add the webhook.",
        autocomplete="off",
        spellcheck="false",
    )

    def api_data(self) -> dict:
        data = self.cleaned_data
        body = {"url": (data.get("url") or "").strip(), "events": data.get("events") or []}
        if data.get("secret"):
            body["secret"] = data["secret"]
        return body
