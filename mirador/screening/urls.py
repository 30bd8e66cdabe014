from django.urls import path

from mirador.screening import views

app_name = "screening"
urlpatterns = [
    path("arrivals/<uuid:arrival_id>/", views.screening_save, name="save"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<uuid:flag_id>/close/", views.flag_close, name="flag_close"),
]
