"""Public store URLs, one list per part: catalog, downloads, community, devices."""

from store.catalog.urls import urlpatterns as catalog_urlpatterns
from store.community.urls import urlpatterns as community_urlpatterns
from store.devices.urls import urlpatterns as device_urlpatterns
from store.downloads.urls import urlpatterns as download_urlpatterns

urlpatterns = catalog_urlpatterns + download_urlpatterns + community_urlpatterns + device_urlpatterns
