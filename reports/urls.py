from django.urls import path

from reports import views as report_views

app_name = "reports"
urlpatterns = [
    path("", report_views.dashboard, name="dashboard"),
    path("tracker/", report_views.tracker, name="tracker"),
    path("tracker.csv", report_views.tracker_csv, name="tracker_csv"),
    path("quarterly/", report_views.quarterly_report, name="quarterly"),
]
