"""Embedded mode for `make run`: debug on, everything local (SPEC §2)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
