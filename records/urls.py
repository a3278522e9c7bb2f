from django.urls import path

from records import views

app_name = "records"
urlpatterns = [
    path("children/<int:pk>/subject-access/", views.subject_access, name="subject_access"),
    path(
        "children/<int:pk>/subject-access.zip",
        views.subject_access_download,
        name="subject_access_download",
    ),
]
