"""The demo catalog of ``manage.py seed_demo``: believable published apps with real packages.

Every package is built by ``mosis_package.build_package``, signed with a demo Ed25519 key registered to
the demo developer and taken through the real pipeline (``versions.services.package_import``: create →
store → upload-complete → validate → submit → approve → publish). Idempotent: versions that exist are
skipped before anything is built, so a second run adds nothing and takes well under a second.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519
from PIL import Image, ImageDraw

from accounts.models import SigningKey
from accounts.services import signing_key_register
from mosis_package import build_package, fingerprint, public_key_pem, sign_file
from versions.models import AppVersion

from .services import package_import

# A fixed seed keeps the demo key the same on every run (and every machine): it signs demo data only.
DEMO_KEY_SEED = hashlib.sha256(b"mosis-store demo signing key").digest()
DEMO_KEY_NAME = "Demo release key"


@dataclass(frozen=True)
class DemoVersion:
    code: int
    name: str
    notes: str
    permissions: tuple[str, ...] = ()
    dependencies: dict = field(default_factory=dict)
    min_mosis: str = "1.0"
    max_mosis: str | None = None


@dataclass(frozen=True)
class DemoApp:
    package_id: str
    name: str
    category: str
    type: str
    description: str
    long_description: str
    versions: tuple[DemoVersion, ...]
    languages: tuple[str, ...] = ("en",)
    requires_restart: bool = False
    colour: tuple[int, int, int] = (40, 110, 200)


V = DemoVersion
# Ordered so that dependencies are published before the apps that need them.
DEMO_CATALOG: tuple[DemoApp, ...] = (
    DemoApp(
        "com.mosis.sync",
        "Sync Service",
        "utilities",
        "provider",
        "Keeps your data in step across devices.",
        "Sync Service runs in the background and keeps notes, tasks and calendars in step across all your "
        "Mosis devices. End-to-end encrypted; your data never leaves your devices unencrypted.",
        (
            V(1, "1.0.0", "First release.", ("network", "background")),
            V(
                2,
                "1.1.0",
                "Faster initial sync; conflict resolution keeps both copies.",
                ("network", "background"),
            ),
        ),
        languages=("en", "de"),
        colour=(30, 140, 120),
    ),
    DemoApp(
        "com.mosis.notes",
        "Notes",
        "productivity",
        "app",
        "Fast notes with markdown and tags.",
        "Write down ideas in **markdown**, tag them and find them again instantly. Works offline; syncs "
        "with Sync Service when it is installed.",
        (
            V(1, "1.0.0", "First release.", ("storage",)),
            V(2, "1.1.0", "Tags and full-text search.", ("storage",)),
            V(
                3,
                "1.2.0",
                "Sync across devices.",
                ("storage", "network"),
                # Optional, installed by default (docs/package-format.md, Dependencies): Notes works offline.
                {
                    "com.mosis.sync": {
                        "version": "^1.0.0",
                        "optional": True,
                        "default": True,
                        "description": "Syncs your notes across devices.",
                    }
                },
                "1.2",
            ),
        ),
        languages=("en", "de", "fr"),
        colour=(240, 180, 40),
    ),
    DemoApp(
        "com.mosis.tasks",
        "Tasks",
        "productivity",
        "app",
        "To-do lists with reminders.",
        "Plan your day with lists, due dates and reminders. Shares lists through Sync Service.",
        (
            V(1, "0.9.0", "Public beta.", ("storage", "notifications")),
            V(
                2,
                "1.0.0",
                "Recurring tasks; sync.",
                ("storage", "notifications"),
                {"com.mosis.sync": "^1.0.0"},
            ),
        ),
        languages=("en", "es"),
        colour=(60, 170, 80),
    ),
    DemoApp(
        "com.mosis.calendar",
        "Calendar",
        "productivity",
        "app",
        "Your agenda, week and month at a glance.",
        "A clean calendar with agenda, week and month views, time zones and invitations.",
        (
            V(
                1,
                "2.0.0",
                "Rewritten from scratch.",
                ("calendar", "notifications"),
                {"com.mosis.sync": "^1.1.0"},
                "1.2",
            ),
        ),
        languages=("en", "fr", "it"),
        colour=(200, 60, 60),
    ),
    DemoApp(
        "com.mosis.chat",
        "Chat",
        "communication",
        "app",
        "Messages and voice notes.",
        "Chat one to one or in groups, send voice notes and photos. Messages are end-to-end encrypted.",
        (
            V(1, "1.0.0", "First release.", ("network", "notifications")),
            V(2, "1.1.0", "Voice notes.", ("network", "notifications", "microphone")),
        ),
        colour=(80, 90, 220),
    ),
    DemoApp(
        "com.mosis.mail",
        "Mail",
        "communication",
        "app",
        "A focused mail client.",
        "IMAP and JMAP mail with a unified inbox, snoozing and a calm, focused reading view.",
        (V(1, "3.1.0", "Unified inbox.", ("network", "storage", "contacts")),),
        languages=("en", "de", "nl"),
        colour=(20, 120, 200),
    ),
    DemoApp(
        "com.mosis.music",
        "Music Player",
        "media",
        "app",
        "Plays your music library, gaplessly.",
        "Gapless playback, replay gain, playlists and a sleep timer. Plays FLAC, Opus, MP3 and AAC.",
        (
            V(1, "1.0.0", "First release.", ("storage",)),
            V(2, "1.1.0", "Background playback and sleep timer.", ("storage", "background")),
        ),
        colour=(150, 50, 180),
    ),
    DemoApp(
        "com.mosis.photos",
        "Photos",
        "media",
        "app",
        "Take, browse and edit photos.",
        "A camera and a gallery in one: albums, basic edits and sharing.",
        (V(1, "1.0.0", "First release.", ("camera", "filesystem")),),
        colour=(230, 120, 30),
    ),
    DemoApp(
        "com.mosis.sudoku",
        "Sudoku",
        "games",
        "app",
        "Thousands of puzzles, four levels.",
        "Classic Sudoku with pencil marks, hints and a daily puzzle. No ads, no tracking.",
        (V(1, "1.0.0", "First release."), V(2, "1.0.1", "Fixes a crash when undoing a hint.")),
        languages=("en", "ja"),
        colour=(90, 90, 90),
    ),
    DemoApp(
        "com.mosis.calculator",
        "Calculator",
        "utilities",
        "app",
        "Scientific calculator with history.",
        "Basic and scientific modes, unit conversions and a history you can reuse.",
        (V(1, "1.2.0", "Unit conversions."),),
        colour=(50, 50, 70),
    ),
    DemoApp(
        "com.mosis.lint",
        "Lint Tools",
        "developer-tools",
        "extension",
        "Inline linting for the Mosis editor.",
        "Shows problems as you type for JavaScript, Python and Go, with quick fixes. Needs an editor "
        "restart after installing.",
        (V(1, "0.5.0", "Python and Go support.", ("filesystem",), {}, "1.1", "2.9"),),
        requires_restart=True,
        colour=(40, 160, 200),
    ),
    DemoApp(
        "com.mosis.theme.midnight",
        "Midnight Theme",
        "themes",
        "theme",
        "A dark theme that is easy on the eyes.",
        "Deep blues, soft contrast and carefully tuned syntax colours for late-night sessions.",
        (V(1, "1.0.0", "First release."),),
        colour=(20, 30, 70),
    ),
    DemoApp(
        "com.mosis.dictionary",
        "Dictionary",
        "education",
        "app",
        "Offline dictionary in eight languages.",
        "Definitions, pronunciations and translations, all offline.",
        (V(1, "1.0.0", "First release.", ("storage",)),),
        languages=("en", "de", "fr", "es", "it", "pt", "nl", "ja"),
        colour=(120, 80, 40),
    ),
)


@dataclass
class CatalogReport:
    apps: int = 0
    created_versions: int = 0
    existing_versions: int = 0


def demo_signing_key(developer) -> tuple[SigningKey, ed25519.Ed25519PrivateKey]:
    """The demo developer's release key (registered once, through the accounts service)."""
    private_key = ed25519.Ed25519PrivateKey.from_private_bytes(DEMO_KEY_SEED)
    pem = public_key_pem(private_key)
    key = SigningKey.objects.filter(user=developer, fingerprint=fingerprint(pem)).first()
    if key is None:
        key = signing_key_register(user=developer, name=DEMO_KEY_NAME, public_key=pem)
    return key, private_key


def _manifest(app: DemoApp, version: DemoVersion) -> dict:
    manifest = {
        "package_id": app.package_id,
        "name": app.name,
        "description": app.description,
        "version_name": version.name,
        "version_code": version.code,
        "min_mosis_version": version.min_mosis,
        "permissions": list(version.permissions),
        "dependencies": dict(version.dependencies),
        "requires_restart": app.requires_restart,
        "icon": "icon.png",
    }
    if version.max_mosis:
        manifest["max_mosis_version"] = version.max_mosis
    return manifest


def _icon(colour: tuple[int, int, int]) -> bytes:
    """A 128x128 tile in the app's colour (make_icon_png's look, but each app recognisable)."""
    image = Image.new("RGBA", (128, 128), (*colour, 255))
    ImageDraw.Draw(image).rounded_rectangle((24, 24, 104, 104), radius=20, fill=(255, 255, 255, 230))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def seed_catalog(*, developer, reviewer, categories: dict) -> CatalogReport:
    """Publish every version of ``DEMO_CATALOG`` that is not there yet, as ``developer``, approved by
    ``reviewer`` (staff). ``categories`` maps slug → Category."""
    key, private_key = demo_signing_key(developer)
    report = CatalogReport(apps=len(DEMO_CATALOG))
    existing = set(
        AppVersion.objects.filter(app__package_id__in=[a.package_id for a in DEMO_CATALOG]).values_list(
            "app__package_id", "version_code"
        )
    )
    with tempfile.TemporaryDirectory(prefix="mosis-demo-") as tmp:
        for app in DEMO_CATALOG:
            for version in app.versions:
                if (app.package_id, version.code) in existing:
                    report.existing_versions += 1
                    continue
                path = Path(tmp) / f"{app.package_id}-{version.code}.mpk"
                files = {"main.js": f"// {app.name} {version.name}\nexport default {{}};\n".encode()}
                build_package(
                    str(path),
                    manifest=_manifest(app, version),
                    files=files,
                    icon=_icon(app.colour),
                    languages=app.languages,
                )
                package_import(
                    path=str(path),
                    owner=developer,
                    reviewer=reviewer,
                    signature=sign_file(str(path), private_key),
                    signing_key_id=key.pk,
                    publish=True,
                    release_notes=version.notes,
                    # Twenty approval mails to the demo developer would only flood the console at `make run`.
                    notify_owner=False,
                    app_defaults={
                        "category": categories.get(app.category),
                        "type": app.type,
                        "long_description": app.long_description,
                        "tags": [app.category, app.type],
                        "homepage_url": f"https://{'.'.join(reversed(app.package_id.split('.')[1:]))}.example.com/",
                        "support_url": "https://mosis.dev/support",
                    },
                )
                report.created_versions += 1
    return report
