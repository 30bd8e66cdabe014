from django.urls import path

from mirador.returns import views

app_name = "returns"
urlpatterns = [
    path("", views.centre_list, name="centres"),
    path("<uuid:centre_id>/", views.centre_day, name="centre"),
    path("<uuid:centre_id>/register/", views.arrival_new, name="register"),
    path("<uuid:centre_id>/manifests/", views.manifest_list, name="manifests"),
    path("<uuid:centre_id>/manifests/new/", views.manifest_upload, name="manifest_upload"),
    path("<uuid:centre_id>/contingency/", views.contingency_switch, name="contingency"),
    path("arrivals/<uuid:arrival_id>/", views.arrival_detail, name="arrival"),
    path("arrivals/<uuid:arrival_id>/complete/", views.arrival_completion, name="complete"),
    path("arrivals/<uuid:arrival_id>/assistance/", views.assistance_add, name="assistance"),
]
