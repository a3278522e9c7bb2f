from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from config.views import accessibility_statement, session_extend
from operations.views import HealthView, LivenessView, status_page
from staff import sso_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="escalations:todo", permanent=False)),
    # Browsers ask for it whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"), permanent=True)),
    path("accounts/login/", sso_views.SignInView.as_view(), name="login"),
    path(
        "accounts/sso/<int:provider_id>/",
        sso_views.ProviderSignInStart.as_view(),
        name="sso_start",
    ),
    path("accounts/sso/callback/", sso_views.ProviderSignInCallback.as_view(), name="sso_callback"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/session/extend/", session_extend, name="session_extend"),
    # Open to everyone, signed in or not (the accessibility regulations).
    path("accessibility/", accessibility_statement, name="accessibility"),
    path("accounts/second-factor/", include("staff.urls")),
    path("escalations/", include("escalations.urls")),
    path("children/", include("records.child_urls")),
    path("notifications/", include("notifications.urls")),
    path("reports/", include("reports.urls")),
    path("records/", include("records.urls")),
    # Open to the load balancer: no sign-in, no second factor (staff/middleware.py).
    path("health/", HealthView.as_view(), name="health"),
    path("health/live/", LivenessView.as_view(), name="health_live"),
    # For administrators: the admin site's own is_staff check.
    path("admin/status/", admin.site.admin_view(status_page), name="operations_status"),
    path("admin/", admin.site.urls),
]
