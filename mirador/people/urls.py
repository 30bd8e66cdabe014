from django.urls import path

from mirador.people import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_new, name="new"),
    path("<uuid:person_id>/", views.person_detail, name="detail"),
]
