from django.urls import path

from mirador.linkage import views

app_name = "linkage"
urlpatterns = [
    path("", views.review_queue, name="queue"),
    path("pairs/<uuid:pair_id>/decide/", views.pair_decide, name="pair_decide"),
    path("pairs/<uuid:pair_id>/reopen/", views.pair_reopen, name="pair_reopen"),
    path("alerts/<uuid:alert_id>/take/", views.alert_take, name="alert_take"),
    path("missing/", views.report_list, name="reports"),
    path("missing/new/", views.report_new, name="report_new"),
    path("missing/<uuid:report_id>/", views.report_detail, name="report"),
    path("unidentified/", views.unidentified_list, name="unidentified_list"),
    path("unidentified/new/", views.unidentified_new, name="unidentified_new"),
    path("unidentified/<uuid:record_id>/", views.unidentified_detail, name="unidentified"),
]
