from django.urls import path

from . import views

keys = views.ApiKeyViewSet
signing_keys = views.SigningKeyViewSet

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/refresh", views.TokenRefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/oauth/<str:provider>", views.OAuthStartView.as_view(), name="oauth-start"),
    path("auth/oauth/<str:provider>/callback", views.OAuthCallbackView.as_view(), name="oauth-callback"),
    path("keys", keys.as_view({"get": "list", "post": "create"}), name="api-keys"),
    path("keys/<uuid:key_id>", keys.as_view({"delete": "destroy"}), name="api-key-detail"),
    path("signing-keys", signing_keys.as_view({"get": "list", "post": "create"}), name="signing-keys"),
    path(
        "signing-keys/<uuid:key_id>", signing_keys.as_view({"delete": "destroy"}), name="signing-key-detail"
    ),
    path("devices", views.DeviceRegisterView.as_view(), name="devices-register"),
]
