"""A review queue of mixed submissions built through the real pipeline (packages stored, validated, diffed,
submitted): what the review console tests and the browser walk look at."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from mosis_package import build_package
from store.models import AbuseReport
from tests.factories import AppFactory, UserFactory
from versions.models import AppVersion, CannedResponse
from versions.services import package_import, version_submit

MAIN_JS_V1 = "\n".join(
    [
        "// Notes: the main screen",
        "import { store } from './store.js';",
        "",
        "export function start(app) {",
        "  const notes = store.load();",
        "  app.render(notes);",
        "}",
        "",
        "export function save(note) {",
        "  store.save(note);",
        "}",
    ]
)
MAIN_JS_V2 = "\n".join(
    [
        "// Notes: the main screen",
        "import { store } from './store.js';",
        "import { camera } from 'mosis:camera';",
        "",
        "export function start(app) {",
        "  const notes = store.load();",
        "  app.render(notes);",
        "  app.onAttach(() => camera.capture());",
        "}",
        "",
        "export function save(note) {",
        "  store.save(note);",
        "  fetch('https://sync.example.com/notes', { method: 'POST', body: JSON.stringify(note) });",
        "}",
    ]
)


def manifest(package_id: str, name: str, version_name: str, version_code: int, **fields) -> dict:
    return {
        "package_id": package_id,
        "name": name,
        "version_name": version_name,
        "version_code": version_code,
        "min_mosis_version": "1.2",
        "permissions": ["network", "storage"],
        "dependencies": {},
        "icon": "icon.png",
        **fields,
    }


def package_file(tmp_path, name: str, manifest_: dict, files: dict[str, bytes]) -> str:
    out = io.BytesIO()
    build_package(out, manifest=manifest_, files=files)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return str(path)


def signed_import(*, path: str, owner, **options):
    """``package_import`` of ``path`` signed with a key registered to ``owner`` (the store requires
    signatures)."""
    from mosis_package import sign_file
    from tests.versions.pipeline import register_signing_key

    key, private_key = register_signing_key(owner, name=f"key {path}")
    return package_import(
        path=path, owner=owner, signature=sign_file(path, private_key), signing_key_id=key.id, **options
    )


def submit_package(tmp_path, *, owner, path: str, waited: timedelta) -> AppVersion:
    """Import ``path`` as ``owner`` without publishing (validated and diffed), submit it, and make it look
    submitted ``waited`` ago."""
    result = signed_import(path=path, owner=owner, publish=False)
    version = result.version
    version_submit(version=version, actor=owner)
    AppVersion.objects.filter(pk=version.pk).update(submitted_at=timezone.now() - waited)
    version.refresh_from_db()
    return version


@dataclass
class ReviewScenario:
    reviewer: object
    other_reviewer: object
    notes_update: AppVersion  # com.example.notes 1.1.0: camera, a new dependency, code changes (3 days)
    newcomer: AppVersion  # a new developer's first app (1 day)
    reported: AppVersion  # an app with open abuse reports, claimed by the other reviewer (5 hours)


def build_review_scenario(tmp_path) -> ReviewScenario:
    # The migration's canned responses are gone from a database a transactional test flushed: say which.
    CannedResponse.objects.get_or_create(
        title="Approved: thank you",
        defaults={
            "decision": "approve",
            "body": "Thank you for your submission. It meets the store's policies and is approved.",
        },
    )
    CannedResponse.objects.get_or_create(
        title="Sensitive permission not explained",
        defaults={"decision": "reject", "body": "Explain in the description why the app needs it."},
    )
    reviewer = UserFactory(is_staff=True, is_superuser=True, email="reviewer@mosis.dev")
    other_reviewer = UserFactory(is_staff=True, email="ana@mosis.dev")
    veteran = UserFactory(email="veteran@example.com")

    # com.example.notes: 1.0.0 published, 1.1.0 adds a sensitive permission, a dependency and code.
    AppFactory(owner=veteran, package_id="com.example.notes", name="Notes")
    v1 = manifest("com.example.notes", "Notes", "1.0.0", 1)
    signed_import(
        path=package_file(
            tmp_path,
            "notes-1.mpk",
            v1,
            {
                "src/main.js": MAIN_JS_V1.encode(),
                "src/store.js": b"export const store = { load() { return []; }, save() {} };\n",
                "assets/splash.bin": bytes(range(256)) * 16,
                "docs/old-guide.txt": b"How to use Notes 1.0\n",
            },
        ),
        owner=veteran,
        reviewer=other_reviewer,
    )
    v2 = manifest(
        "com.example.notes",
        "Notes",
        "1.1.0",
        2,
        permissions=["network", "storage", "camera"],
        dependencies={"com.example.sync": "^2.0.0"},
    )
    notes_update = submit_package(
        tmp_path,
        owner=veteran,
        path=package_file(
            tmp_path,
            "notes-2.mpk",
            v2,
            {
                "src/main.js": MAIN_JS_V2.encode(),
                "src/store.js": b"export const store = { load() { return []; }, save() {} };\n",
                "src/attach.js": b"export function attach(camera) {\n  return camera.capture();\n}\n",
                "assets/splash.bin": bytes(range(255, -1, -1)) * 16,
            },
        ),
        waited=timedelta(days=3, hours=2),
    )

    # A developer's very first submission, of a brand-new app.
    newcomer_dev = UserFactory(email="newcomer@example.com")
    AppFactory(owner=newcomer_dev, package_id="com.newcomer.timer", name="Timer")
    newcomer = submit_package(
        tmp_path,
        owner=newcomer_dev,
        path=package_file(
            tmp_path,
            "timer-1.mpk",
            manifest("com.newcomer.timer", "Timer", "0.1.0", 1),
            {"src/timer.js": b"export const tick = () => Date.now();\n"},
        ),
        waited=timedelta(days=1),
    )

    # An app users reported, already claimed by another reviewer.
    reported_dev = UserFactory(email="flashy@example.com")
    AppFactory(owner=reported_dev, package_id="com.flashy.cleaner", name="Cleaner")
    signed_import(
        path=package_file(
            tmp_path,
            "cleaner-1.mpk",
            manifest("com.flashy.cleaner", "Cleaner", "1.0.0", 1),
            {"src/clean.js": b"export const clean = () => 0;\n"},
        ),
        owner=reported_dev,
        reviewer=other_reviewer,
    )
    for who in ("u1@example.com", "u2@example.com"):
        AbuseReport.objects.create(
            app=AppVersion.objects.get(app__package_id="com.flashy.cleaner").app,
            reporter=UserFactory(email=who),
            reason="spam",
            comment="Shows full-screen ads <b>every minute</b>.",
        )
    reported = submit_package(
        tmp_path,
        owner=reported_dev,
        path=package_file(
            tmp_path,
            "cleaner-2.mpk",
            manifest("com.flashy.cleaner", "Cleaner", "1.1.0", 2),
            {
                "src/clean.js": b"export const clean = () => 1;\n",
                "src/ads.js": json.dumps({"ads": 1}).encode(),
            },
        ),
        waited=timedelta(hours=5),
    )
    from versions.services import review_claim

    review_claim(version=reported, reviewer=other_reviewer)
    return ReviewScenario(
        reviewer=reviewer,
        other_reviewer=other_reviewer,
        notes_update=notes_update,
        newcomer=newcomer,
        reported=reported,
    )
