"""Open-data downloads, public: mounted by mirador/urls.py at /observatory/data/."""

from django.urls import path

from mirador.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.data_index, name="index"),
    path("<slug:code>.csv", views.table_csv, name="csv"),
    path("<slug:code>.parquet", views.table_parquet, name="parquet"),
    path("<slug:code>.sdmx.csv", views.table_sdmx, name="sdmx"),
    path("<slug:code>/datapackage.json", views.table_datapackage, name="datapackage"),
]
