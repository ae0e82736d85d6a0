from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AppViewSet, EventListView

router = SimpleRouter(trailing_slash=False)
router.register("apps", AppViewSet, basename="app")

urlpatterns = [
    path("events", EventListView.as_view(), name="event-list"),
    *router.urls,
]
