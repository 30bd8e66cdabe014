from django.urls import path

from mirador.flows import views

app_name = "flows"
urlpatterns = [
    path("", views.upload_new, name="upload_new"),
    path("<uuid:job_id>/", views.upload_detail, name="upload_detail"),
    path("<uuid:job_id>/store/", views.upload_store_view, name="upload_store"),
    path("<uuid:job_id>/report.csv", views.upload_report_csv, name="upload_report"),
]
