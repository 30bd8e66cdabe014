from django.urls import path

from mirador.documents import views

app_name = "documents"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("arrivals/<uuid:arrival_id>/needs/", views.need_add, name="need"),
    path("requests/<uuid:request_id>/advance/", views.request_advance, name="advance"),
    path("requests/<uuid:request_id>/cancel/", views.request_cancel, name="cancel"),
]
