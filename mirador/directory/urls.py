from django.urls import path

from mirador.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.directory_index, name="index"),
    path("referrals/", views.referral_list, name="referrals"),
    path(
        "referrals/<uuid:referral_id>/<str:action>/",
        views.referral_answer,
        name="referral_answer",
    ),
    path("arrivals/<uuid:arrival_id>/refer/", views.referral_new, name="refer"),
]
