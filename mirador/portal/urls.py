"""The public portal of the observatory, mounted by mirador/urls.py at /observatory/: dashboards,
country profiles and bulletins, no sign-in needed (the open data downloads are
mirador.analytics.urls, at /observatory/data/)."""

from django.urls import path  # noqa: F401 (each section below adds its paths)

from mirador.portal.views import bulletins, dashboards, profiles

app_name = "portal"

urlpatterns: list = [
    # --- dashboards (mirador/portal/views/dashboards.py) ---
    path("", dashboards.overview, name="dashboards"),
    # (the page per dataset, /observatory/<code>/, is added last, below)
    # --- country profiles (mirador/portal/views/profiles.py) ---
    path("countries/", profiles.country_list, name="profiles"),
    path("countries/<str:code>/", profiles.country_detail, name="profile"),
    # --- bulletins (mirador/portal/views/bulletins.py) ---
    path("bulletins/", bulletins.bulletin_list, name="bulletins"),
    path("bulletins/generate", bulletins.bulletin_generate, name="bulletin_generate"),
    path("bulletins/<uuid:edition_id>.pdf", bulletins.bulletin_download, name="bulletin_download"),
]

# Dashboards: the page per dataset comes last, so that its <slug> does not catch the paths of
# the other sections (countries/, bulletins/, ...).
urlpatterns.append(path("<slug:code>/", dashboards.dataset, name="dashboard"))
