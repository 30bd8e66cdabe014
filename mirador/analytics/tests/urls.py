"""The project's URLs with the open-data downloads mounted where mirador/urls.py is to mount
them (/observatory/data/), for the tests, until it does."""

from django.urls import include, path
from django.urls.resolvers import URLResolver

from mirador.urls import urlpatterns as project_urlpatterns

mounted = any(
    isinstance(pattern, URLResolver) and pattern.namespace == "analytics"
    for pattern in project_urlpatterns
)
urlpatterns = list(project_urlpatterns)
if not mounted:
    urlpatterns.append(path("observatory/data/", include("mirador.analytics.urls")))
