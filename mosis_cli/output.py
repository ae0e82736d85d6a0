"""What the CLI prints: sentences for people on stdout (progress and errors on stderr), or, with ``--json``,
one JSON document on stdout per command and nothing else there."""

from __future__ import annotations

import json
import sys
import time

from .errors import CliError


def human_size(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


class Output:
    def __init__(self, *, json_mode: bool, stdout=None, stderr=None):
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr

    # -- for people ---------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        """A line for people (stdout); silent with --json."""
        if not self.json_mode:
            print(text, file=self.stdout, flush=True)

    def note(self, text: str) -> None:
        """A side remark (stderr), shown in both modes: it never pollutes --json's stdout."""
        print(text, file=self.stderr, flush=True)

    def issue_lines(self, issues: list[dict], fixes: dict[str, str]) -> None:
        """A validation report: each issue with where it is and how to fix it (errors first)."""
        ordered = [i for i in issues if i.get("severity") != "warning"] + [
            i for i in issues if i.get("severity") == "warning"
        ]
        for issue in ordered:
            where = f" ({issue['path']})" if issue.get("path") else ""
            label = "warning" if issue.get("severity") == "warning" else "error"
            self.say(f"  {label} {issue['code']}{where}: {issue['message']}")
            fix = fixes.get(issue["code"])
            if fix:
                self.say(f"      fix: {fix}")

    # -- for scripts ---------------------------------------------------------------------------------------
    def result(self, data: dict) -> None:
        """The command's outcome: the JSON document with --json (``ok: true``)."""
        if self.json_mode:
            print(json.dumps({"ok": True, **data}, indent=2, default=str), file=self.stdout, flush=True)

    def error(self, exc: CliError) -> None:
        if self.json_mode:
            print(json.dumps({"ok": False, "error": exc.as_dict()}, indent=2), file=self.stdout, flush=True)
            return
        print(f"error: {exc.message}", file=self.stderr)
        if exc.fix:
            print(f"  fix: {exc.fix}", file=self.stderr)
        self.stderr.flush()

    # -- progress --------------------------------------------------------------------------------------------
    def progress(self, label: str, total: int | None) -> Progress:
        return Progress(self, label, total)

    def waiting(self, label: str) -> Waiting:
        return Waiting(self, label)


class Progress:
    """``label  42% [########..........] 1.2 MB / 2.9 MB`` redrawn in place on a terminal; on a pipe, one
    line at the start and one at the end (a log must not get a line per chunk)."""

    WIDTH = 28

    def __init__(self, out: Output, label: str, total: int | None):
        self.out = out
        self.label = label
        self.total = total
        self.done = 0
        self.tty = out.stderr.isatty() and not out.json_mode
        self._last_draw = 0.0
        if not self.tty and not out.json_mode:
            out.note(f"{label} {human_size(total)}...")

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty and (now - self._last_draw > 0.1 or (self.total and self.done >= self.total)):
            self._last_draw = now
            self._draw()

    def _draw(self) -> None:
        if self.total:
            fraction = min(1.0, self.done / self.total)
            filled = int(self.WIDTH * fraction)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            text = (
                f"\r{self.label} {fraction:4.0%} [{bar}] {human_size(self.done)} / {human_size(self.total)}"
            )
        else:
            text = f"\r{self.label} {human_size(self.done)}"
        self.out.stderr.write(text)
        self.out.stderr.flush()

    def finish(self) -> None:
        if self.tty:
            self._draw()
            self.out.stderr.write("\n")
            self.out.stderr.flush()
        elif not self.out.json_mode:
            self.out.note(f"{self.label} done ({human_size(self.done)}).")


class Waiting:
    """``Validating... 12s`` redrawn on a terminal; on a pipe, one line when the wait starts."""

    def __init__(self, out: Output, label: str):
        self.out = out
        self.label = label
        self.started = time.monotonic()
        self.tty = out.stderr.isatty() and not out.json_mode
        if not self.tty and not out.json_mode:
            out.note(f"{label}...")

    def tick(self, detail: str = "") -> None:
        if self.tty:
            elapsed = int(time.monotonic() - self.started)
            self.out.stderr.write(f"\r{self.label}... {elapsed}s {detail}".ljust(60))
            self.out.stderr.flush()

    def finish(self, outcome: str) -> None:
        """``outcome`` completes "<label>: ..." (e.g. "now 'draft'")."""
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.out.stderr.write("\r" + " " * 60 + "\r")
            self.out.stderr.flush()
        if not self.out.json_mode:
            self.out.note(f"{self.label}: {outcome} ({elapsed:.0f}s).")
