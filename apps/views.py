"""``/v1/events``: a thin view over ``apps.selectors``. (``/v1/apps`` answers an App with its latest published
version, a read of versions, so its views are ``versions.views_apps``.)"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from accounts.permissions import HasScope
from mosis.core.pagination import PaginatedListMixin

from .selectors import event_list
from .serializers import ActivityEventSerializer, EventQuerySerializer


class EventListView(PaginatedListMixin, GenericAPIView):
    """The activity feed (seed 003): the caller's own apps' events, newest first (staff: all)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"*": "apps:read"}
    ratelimit_category = "read"
    serializer_class = ActivityEventSerializer
    items_key = "events"

    def get_queryset(self):  # schema only
        return event_list(user=self.request.user)

    @extend_schema(
        summary="Activity feed of the caller's apps",
        parameters=[EventQuerySerializer],
        responses={200: ActivityEventSerializer(many=True)},
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = event_list(user=request.user, **query.validated_data)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ActivityEventSerializer(page, many=True).data)
