from django.contrib import admin
from django.urls import include, path

from mirador.api import api
from mirador.core import views as core_views

urlpatterns = [
    path("", include("mirador.core.urls")),
    path("accounts/", include("mirador.accounts.urls")),
    path("people/", include("mirador.people.urls")),
    path("reception/", include("mirador.returns.urls")),
    path("screening/", include("mirador.screening.urls")),
    path("documents/", include("mirador.documents.urls")),
    path("directory/", include("mirador.directory.urls")),
    path("identification/", include("mirador.linkage.urls")),
    path("consular/", include("mirador.consular.urls")),
    path("observatory/data/", include("mirador.analytics.urls")),
    path("observatory/imports/", include("mirador.flows.urls")),
    path("observatory/", include("mirador.portal.urls")),
    path("api/v1/", api.urls),
    path("api/docs", core_views.api_docs, name="api_docs"),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
