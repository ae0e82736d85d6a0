"""Django's admin, wired to the review console's site (``mosis.admin_site.ReviewConsoleSite``)."""

from django.contrib.admin.apps import AdminConfig


class ReviewConsoleAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose default site (``admin.site``, where every app registers) is the
    review console."""

    default_site = "mosis.admin_site.ReviewConsoleSite"
