"""``mosis init``: a new app folder with a manifest whose fields are explained, an icon and nls/en/."""

from __future__ import annotations

import colorsys
import hashlib
import json
import re
from pathlib import Path

from mosis_package import MANIFEST_SCHEMA, make_icon_png
from mosis_package.manifest import PACKAGE_ID_PATTERN

from ..context import Context
from ..errors import CliError, ExitCode

ICON_SIZE = 512


def register(sub, common) -> None:
    init = sub.add_parser(
        "init",
        parents=[common],
        help="Create an app folder: manifest.json, a placeholder icon, main.js and nls/en/.",
        description="Create an app folder ready for `mosis pack`/`mosis publish`: manifest.json (each field is "
        "explained on screen), a generated 512x512 PNG icon to replace with yours, main.js and nls/en/. "
        "Works offline.",
    )
    init.add_argument("folder", nargs="?", default=".", help="Folder to create or fill (default: here).")
    init.add_argument(
        "--package-id",
        help="Your app's id, e.g. com.example.notes (default: com.example.<folder name>).",
    )
    init.add_argument("--name", help="The app's display name (default: from the folder name).")
    init.add_argument("--force", action="store_true", help="Overwrite an existing manifest.json.")
    init.set_defaults(handler=init_command)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower()) or "app"


def _colour(package_id: str) -> tuple[int, int, int]:
    hue = hashlib.sha256(package_id.encode()).digest()[0] / 255
    r, g, b = colorsys.hls_to_rgb(hue, 0.45, 0.6)
    return int(r * 255), int(g * 255), int(b * 255)


def init_command(ctx: Context) -> int:
    opts, out = ctx.options, ctx.out
    folder = Path(opts.folder)
    base = folder.resolve().name
    package_id = opts.package_id or f"com.example.{_slug(base)}"
    if not re.match(PACKAGE_ID_PATTERN, package_id):
        raise CliError(
            f"{package_id!r} is not a package id.",
            fix="Use lowercase reverse-domain form with at least two parts, each starting with a letter, "
            "e.g. --package-id com.example.notes",
            exit_code=ExitCode.USAGE,
        )
    name = opts.name or base.replace("-", " ").replace("_", " ").strip().title() or "My App"
    manifest_path = folder / "manifest.json"
    if manifest_path.exists() and not opts.force:
        raise CliError(
            f"{manifest_path} already exists.",
            fix="Pick another folder, or pass --force to overwrite manifest.json.",
            exit_code=ExitCode.USAGE,
        )
    manifest = {
        "package_id": package_id,
        "name": name[:100],
        "description": f"{name[:100]} for Mosis.",
        "version_name": "1.0.0",
        "version_code": 1,
        "min_mosis_version": "1.0",
        "permissions": [],
        "dependencies": {},
        "requires_restart": False,
        "icon": "icon.png",
    }
    (folder / "nls" / "en").mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    created = ["manifest.json"]
    written = {
        "icon.png": make_icon_png(ICON_SIZE, _colour(package_id)),
        "main.js": f"// {name}: your app's code starts here.\nexport default {{}};\n".encode(),
        "nls/en/messages.json": (
            json.dumps({"app.name": name, "app.description": manifest["description"]}, indent=2) + "\n"
        ).encode(),
    }
    for relative, data in written.items():
        path = folder / relative
        if path.exists():
            continue  # never overwrite the developer's own icon or code
        path.write_bytes(data)
        created.append(relative)

    out.say(f"Created {folder}/ for {package_id}: {', '.join(created)}")
    out.say("")
    out.say("manifest.json, field by field:")
    width = max(len(k) for k in MANIFEST_SCHEMA["properties"])
    required = set(MANIFEST_SCHEMA["required"])
    for key, spec in MANIFEST_SCHEMA["properties"].items():
        value = json.dumps(manifest.get(key)) if key in manifest else "(not set)"
        flag = "required" if key in required else "optional"
        out.say(f"  {key:<{width}}  {value}")
        out.say(f"  {'':<{width}}  {flag}: {spec.get('description', '')}")
    out.say("")
    out.say("icon.png is a placeholder: replace it with your own square PNG (512x512 is best).")
    out.say("Add translations as nls/<language>/messages.json (en, fr, pt-BR, ...).")
    out.say("Next: `mosis keygen` once, then `mosis publish " + str(folder) + " --wait`.")
    out.result({"folder": str(folder.resolve()), "created": created, "manifest": manifest})
    return 0
