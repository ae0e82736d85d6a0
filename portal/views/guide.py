"""``/portal/guide/``: the package format guide (docs/package-format.md), the page the validation report's
fixes and the approval emails point developers to."""

from __future__ import annotations

import functools

import markdown
from django.conf import settings
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

GUIDE_PATH = settings.BASE_DIR / "docs" / "package-format.md"


@functools.lru_cache(maxsize=1)
def _guide_html() -> str:
    """Rendered once per process: the file ships with the code and does not change while it runs."""
    text = GUIDE_PATH.read_text(encoding="utf-8")
    # Our own document, not user input: headings keep their ids (toc) so report fixes can link to them.
    return markdown.markdown(text, extensions=["extra", "toc", "sane_lists"])


@require_safe
def package_format_guide(request):
    return render(request, "portal/guide.html", {"guide_html": mark_safe(_guide_html())})  # noqa: S308
