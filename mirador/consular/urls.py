from django.urls import path

from mirador.consular import views

app_name = "consular"
urlpatterns = [
    path("", views.case_list, name="cases"),
    path("new/", views.case_new, name="case_new"),
    path("<uuid:case_id>/", views.case_detail, name="case"),
    path("<uuid:case_id>/details/", views.case_details, name="case_details"),
    path("<uuid:case_id>/status/", views.case_status, name="case_status"),
    path("<uuid:case_id>/actions/", views.case_action, name="case_action"),
]
