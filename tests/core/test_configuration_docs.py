"""SPEC §2 / STYLE §7: every variable the settings read through ``env`` is documented in
docs/configuration.md (name in backticks). Adding a setting means adding its line there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"\benv(?:\.[a-z_]+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def test_every_environment_variable_is_documented():
    documented = (ROOT / "docs" / "configuration.md").read_text()
    read = {
        name
        for settings_file in (ROOT / "mosis" / "settings").glob("*.py")
        for name in ENV_READ.findall(settings_file.read_text())
    }
    assert len(read) > 40  # the pattern still finds the settings
    missing = sorted(name for name in read if f"`{name}`" not in documented)
    assert not missing, f"document these in docs/configuration.md: {missing}"
