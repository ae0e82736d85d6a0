"""The ``mosis`` command: argument parsing, dispatch, and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

from .commands import account, keys, package, publish, scaffold, status
from .context import Context
from .errors import CliError, ExitCode
from .output import Output

EPILOG = """\
The five commands of a first publish (docs/quickstart.md):
  mosis login --store https://store.example.com
  mosis init notes --package-id com.example.notes
  mosis keygen
  mosis publish notes --wait
  mosis status com.example.notes

Exit codes: 0 done, 1 refused by the store, 2 bad command line, 3 not signed in / expired / missing
permission, 4 invalid package or manifest, 5 signing key or signature problem, 6 rejected by a reviewer,
7 store unreachable or failing, 8 timed out waiting, 130 interrupted.
Environment: MOSIS_STORE (store URL), MOSIS_API_KEY (an API key, for CI), MOSIS_SIGNING_KEY (private key
path), MOSIS_KEY_PASSPHRASE, MOSIS_CONFIG_DIR (where credentials and keys are kept).
"""


def _version() -> str:
    try:
        return metadata.version("mosis-store")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    # Options every command accepts, before or after its name (`mosis --json status` = `mosis status --json`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store", default=argparse.SUPPRESS, help="Store URL (default: the last one you logged in to)."
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="Print one JSON document, for scripts."
    )
    parser = argparse.ArgumentParser(
        prog="mosis",
        description="Publish apps to a Mosis store: sign in, scaffold, sign, pack and publish.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mosis {_version()}")
    parser.add_argument(
        "--store", help="Store URL (default: the last one you logged in to, or $MOSIS_STORE)."
    )
    parser.add_argument("--json", action="store_true", help="Print one JSON document, for scripts.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (account, scaffold, keys, package, publish, status):
        module.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2) keep argparse's own codes
        return int(exc.code or 0)
    out = Output(json_mode=bool(getattr(options, "json", False)))
    try:
        ctx = Context(options=options, out=out)
        return int(options.handler(ctx) or 0)
    except CliError as exc:
        out.error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        out.error(
            CliError(
                "Interrupted.",
                fix="Run the same command again: publishing carries on where it stopped.",
                exit_code=ExitCode.INTERRUPTED,
            )
        )
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
