from django.urls import path

from .views_portal import store_home

urlpatterns = [path("", store_home, name="store-home")]
