"""``mosis``: the developer command line of Mosis Store.

Publishes apps to any Mosis store over its HTTP API (``/v1``): sign in, scaffold, make and register a signing
key, pack, sign, verify, publish and follow review. Imports nothing from Django: it needs only this package,
``mosis_package`` (the package format, shared with the store so a package is checked by the same code on
both sides) and their dependencies. See docs/cli.md and docs/quickstart.md.
"""
