from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="escalations:mine", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/second-factor/", include("staff.urls")),
    path("escalations/", include("escalations.urls")),
    path("children/", include("children.urls")),
    path("notifications/", include("notifications.urls")),
    path("reports/", include("escalations.report_urls")),
    path("admin/", admin.site.urls),
]
