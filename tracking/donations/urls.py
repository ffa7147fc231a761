"""The public list of matched donations (爱心传递)."""

from django.urls import path

from . import views

app_name = "donations"

urlpatterns = [
    path("", views.public_list, name="public_list"),
]
