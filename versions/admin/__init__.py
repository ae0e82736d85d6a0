"""The review console's version admins (SPEC §8): the review queue and review page (``queue``), every
version read-only (``appversion``), the canned responses (``canned``) and the app page's version sections
(``app_page``, added to the apps admin). Importing registers them."""

from . import app_page, appversion, canned, queue

__all__ = ["app_page", "appversion", "canned", "queue"]
