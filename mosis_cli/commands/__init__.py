"""One module per group of commands; each exposes ``register(subparsers)`` and handlers ``(ctx) -> int``."""
