from django.urls import path

from . import views

urlpatterns = [
    path("auth/token", views.TokenObtainView.as_view(), name="auth-token"),
    path("auth/refresh", views.TokenRefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me", views.MeView.as_view(), name="auth-me"),
    path("auth/oauth/<str:provider>", views.OAuthStartView.as_view(), name="oauth-start"),
    path("auth/oauth/<str:provider>/callback", views.OAuthCallbackView.as_view(), name="oauth-callback"),
    path("keys", views.ApiKeyListCreateView.as_view(), name="api-keys"),
    path("keys/<uuid:key_id>", views.ApiKeyDetailView.as_view(), name="api-key-detail"),
    path("signing-keys", views.SigningKeyListCreateView.as_view(), name="signing-keys"),
    path("signing-keys/<uuid:key_id>", views.SigningKeyDetailView.as_view(), name="signing-key-detail"),
    path("devices", views.DeviceRegisterView.as_view(), name="devices-register"),
]
