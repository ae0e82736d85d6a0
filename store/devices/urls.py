"""Device URLs: the installed set, updates, plans and a device's view of one app."""

from django.urls import path

from store.devices import views

urlpatterns = [
    path("devices/me/apps", views.DeviceAppsView.as_view(), name="device-apps"),
    path("devices/me/updates", views.DeviceUpdatesView.as_view(), name="device-updates"),
    path("devices/me/plan", views.DevicePlanView.as_view(), name="device-plan"),
    path(
        "devices/me/store/apps/<str:package_id>", views.DeviceAppStoreView.as_view(), name="device-store-app"
    ),
]
