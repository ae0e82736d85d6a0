"""Build valid packages and icons: for tests, the demo seeder (`seed_demo`), the benchmarks and `mosis init`."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Sequence
from typing import BinaryIO

from PIL import Image, ImageDraw

from .manifest import MANIFEST_NAME
from .signatures import generate_signing_key, sign_file

__all__ = ["build_package", "generate_signing_key", "make_icon_png", "sign_file"]

_DEFAULT_ICON = object()


def make_icon_png(size: int = 64, colour: tuple[int, int, int] = (40, 110, 200)) -> bytes:
    """A valid, square PNG icon: a tile of ``colour`` with a white circle (``mosis init`` makes a 512x512
    one to replace with the app's own)."""
    image = Image.new("RGBA", (size, size), (*colour, 255))
    draw = ImageDraw.Draw(image)
    margin = max(1, size // 6)
    draw.ellipse((margin, margin, size - margin, size - margin), fill=(250, 250, 250, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@functools.cache
def _default_icon() -> bytes:
    return make_icon_png(64)


def build_package(
    dest_path_or_fileobj: str | BinaryIO,
    *,
    manifest: dict,
    files: dict[str, bytes] | None = None,
    icon: bytes | None = _DEFAULT_ICON,  # type: ignore[assignment]
    languages: Sequence[str] = (),
) -> None:
    """Write a package: manifest.json, the icon at `manifest["icon"]` (default 'icon.png'), `files`, and a
    `nls/<tag>/messages.json` for each language not already present in `files`.

    `icon=None` writes no icon; the default is a generated 64x64 PNG. Entries are DEFLATED. Nothing is
    validated here, so tests can build bad packages by passing bad manifests or files.
    """
    files = dict(files or {})
    if icon is _DEFAULT_ICON:
        icon = _default_icon()
    with zipfile.ZipFile(dest_path_or_fileobj, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2))
        icon_path = manifest.get("icon", "icon.png") if isinstance(manifest, dict) else "icon.png"
        if icon is not None and isinstance(icon_path, str) and icon_path not in files:
            archive.writestr(icon_path, icon)
        for tag in languages:
            prefix = f"nls/{tag}/"
            if not any(name.startswith(prefix) for name in files):
                files[prefix + "messages.json"] = json.dumps({"app.name": manifest.get("name", "")}).encode()
        for name, data in files.items():
            archive.writestr(name, data)
