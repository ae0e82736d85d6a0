"""``{{ event|describe_event }}``: an activity event in words (``apps.activity.describe_event``)."""

from django import template

from apps.activity import describe_event as describe

register = template.Library()


@register.filter
def describe_event(event) -> str:
    return describe(event)
