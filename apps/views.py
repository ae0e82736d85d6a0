"""``/v1/events``: a thin view over ``apps.selectors``. (``/v1/apps`` answers an App with its latest published
version, a read of versions, so its views are ``versions.views_apps``.)"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from accounts.permissions import HasScope
from mosis.core.filters import QueryFiltersMixin
from mosis.core.pagination import PaginatedListMixin

from .filters import EventFilterSet
from .selectors import event_list
from .serializers import ActivityEventSerializer


class EventListView(QueryFiltersMixin, PaginatedListMixin, ListAPIView):
    """The activity feed (seed 003): the caller's own apps' events, newest first (staff: all)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"*": "apps:read"}
    ratelimit_category = "read"
    serializer_class = ActivityEventSerializer
    items_key = "events"
    filterset_class = EventFilterSet

    def get_queryset(self):
        return event_list(user=self.request.user, **self.query_filters())

    @extend_schema(
        summary="Activity feed of the caller's apps", responses={200: ActivityEventSerializer(many=True)}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
