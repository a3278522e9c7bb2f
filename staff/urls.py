from django.urls import path

from staff import views

urlpatterns = [
    path("", views.second_factor, name="second_factor"),
    path("setup/", views.second_factor_setup, name="second_factor_setup"),
]
