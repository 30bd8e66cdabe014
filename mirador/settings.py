"""Django settings for Mirador, every value read from the environment (see mirador/config.py)."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from mirador import config

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

MIRADOR_MODE = config.mode()
PRODUCTION = MIRADOR_MODE == config.PRODUCTION
DATA_DIR = config.data_dir(BASE_DIR)

DEBUG = config.env_bool("MIRADOR_DEBUG", default=False)
ALLOWED_HOSTS = config.env_list(
    "MIRADOR_ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise config.ConfigurationError(
        "MIRADOR_ALLOWED_HOSTS is not set: production needs the host names it answers to, "
        "comma-separated, e.g. MIRADOR_ALLOWED_HOSTS=mirador.example.org."
    )
MIRADOR_BEHIND_PROXY = config.env_bool("MIRADOR_BEHIND_PROXY", default=False)
CSRF_TRUSTED_ORIGINS = config.env_list("MIRADOR_CSRF_TRUSTED_ORIGINS", default=[])

# Two-factor authentication is required of every role that reads personal data, except in the
# demo, where the demo accounts must work with a password alone.
MIRADOR_REQUIRE_TWO_FACTOR = config.env_bool("MIRADOR_REQUIRE_TWO_FACTOR", default=PRODUCTION)
MIRADOR_API_TOKEN_HOURS = config.env_int("MIRADOR_API_TOKEN_HOURS", 12, minimum=1, maximum=24 * 90)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Mirador"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "mirador.core",
    "mirador.accounts",
    "mirador.people",
    "mirador.flows",
    "mirador.returns",
    "mirador.screening",
    "mirador.documents",
    "mirador.directory",
    "mirador.linkage",
    "mirador.consular",
    "mirador.analytics",
    "mirador.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "mirador.accounts.middleware.UserLanguageMiddleware",
    "mirador.core.middleware.RequestContextMiddleware",
    "mirador.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last, as its documentation asks, so it sees the authentication outcome.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mirador.urls"
WSGI_APPLICATION = "mirador.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mirador.core.context_processors.mirador",
            ],
        },
    },
]

DATABASES = {
    "default": config.database_settings(
        default_sqlite_path=DATA_DIR / "mirador.sqlite3", production=PRODUCTION
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a task worker writes.
    DATABASES["default"].setdefault(
        "OPTIONS",
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20},
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out user is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Failed sign-ins: after AXES_FAILURE_LIMIT failures for one user name from one address,
# that pair is locked for AXES_COOLOFF_TIME hours.
AXES_FAILURE_LIMIT = config.env_int("MIRADOR_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# The locked-out page for the web, JSON of the API's error shape for /api/.
AXES_LOCKOUT_CALLABLE = "mirador.accounts.lockout.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_REAL_IP", "REMOTE_ADDR"] if MIRADOR_BEHIND_PROXY else ["REMOTE_ADDR"]
)
# Axes logs user names and addresses of failed attempts; that is personal data, replaced in
# application logs by a keyed pseudonym.
AXES_CLIENT_STR_CALLABLE = "mirador.accounts.lockout.client_for_logs"
AXES_ENABLE_ACCESS_FAILURE_LOG = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = config.time_zone()
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# plotly.js is served from the installed plotly package's own file (never a CDN).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "mirador.portal.staticfiles.PlotlyFinder",
]
# The demo serves static files straight from the apps, so it needs no collectstatic step.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Files uploaded for import (flows) larger than this are refused.
MIRADOR_MAX_UPLOAD_MB = config.env_int("MIRADOR_MAX_UPLOAD_MB", 200, minimum=1, maximum=100_000)
# Public figures (pages, API, downloads) under this count are withheld, with the others
# needed so that no withheld figure can be worked out from the totals (analytics.disclosure).
MIRADOR_DISCLOSURE_THRESHOLD = config.env_int(
    "MIRADOR_DISCLOSURE_THRESHOLD", 5, minimum=1, maximum=1000
)
# Published boundary files (GeoJSON) for the dashboards' maps of subdivisions, read where they
# are kept, never copied into Mirador (analytics.boundaries, docs/dashboards.md).
MIRADOR_BOUNDARIES_DIR = config.boundaries_dir(base_dir=BASE_DIR, production=PRODUCTION)
MIRADOR_UPLOAD_RETENTION_DAYS = config.env_int(
    "MIRADOR_UPLOAD_RETENTION_DAYS", 7, minimum=1, maximum=3650
)

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

# Application logs carry event names and identifiers, never a person's data (see core.audit).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env_str("MIRADOR_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Last, so that a configuration error above stops start-up before the demo's secret is written.
SECRET_KEY = config.secret_key(data_directory=DATA_DIR, production=PRODUCTION)
