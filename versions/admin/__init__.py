"""The review console's version admins (SPEC §8): the review queue and review page (``queue``), every
version read-only (``appversion``) and the canned responses (``canned``). Importing registers them."""

from . import appversion, canned, queue

__all__ = ["appversion", "canned", "queue"]
