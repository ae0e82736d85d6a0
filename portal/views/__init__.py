"""Portal pages: thin views that validate with the API's serializers (``portal.forms``) and call the same
services and selectors as the API. Another developer's app or version is a 404 on every page."""
