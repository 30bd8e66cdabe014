"""Settings of the bare baseline site: no middleware, no sessions, no templates, DEBUG off;
the database from BARE_DATABASE_URL, with connections kept as Mirador keeps them in
production (conn_max_age=60, mirador.config.database_settings)."""

from __future__ import annotations

import os

import dj_database_url

DEBUG = False
SECRET_KEY = os.environ.get("BARE_SECRET_KEY", "bare-site-benchmark-only-not-a-secret")  # noqa: S105
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bare_site"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bare_site.urls"
WSGI_APPLICATION = "bare_site.wsgi.application"
DATABASES = {
    "default": dict(dj_database_url.parse(os.environ["BARE_DATABASE_URL"], conn_max_age=60))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
