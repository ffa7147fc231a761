"""The public doors of the hotline: the web form (提交诉求) and the progress
lookup (进度查询). Both call the same services as the back office."""

from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/done/", views.report_done, name="report_done"),
    path("progress/", views.progress, name="progress"),
]
