from django.urls import path

from escalations import views

app_name = "escalations"
urlpatterns = [
    path("", views.my_escalations, name="mine"),
]
