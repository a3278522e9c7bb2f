"""The /children/ pages: the list (children/) and the child's file and conference view
(records/, as they show the child's escalations). One URL namespace, `children`, so the
addresses and names are those the pages always had."""

from django.urls import path

from children.views import child_list
from records import views

app_name = "children"
urlpatterns = [
    path("", child_list, name="list"),
    path("<int:pk>/", views.child_file, name="file"),
    path("<int:pk>/conference/", views.conference_view, name="conference"),
]
