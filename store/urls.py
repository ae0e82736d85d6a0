"""Public store URLs: the catalog side (browse, search, listing, downloads) and the community/device side."""

from .urls_catalog import urlpatterns as catalog_urlpatterns
from .urls_community import urlpatterns as community_urlpatterns

urlpatterns = catalog_urlpatterns + community_urlpatterns
