"""Reading Mirador's configuration from the environment.

Every setting comes from a `MIRADOR_*` variable. In demo mode (the default) each has a safe
default so that a fresh machine runs with nothing set; in production mode
(`MIRADOR_MODE=production`) the ones that protect people's data must be given, and a missing
or malformed one stops start-up with one sentence that says what to do.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEMO = "demo"
PRODUCTION = "production"
MODES = (DEMO, PRODUCTION)

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}

# Runs of one query on a connection before psycopg prepares it (psycopg's own default).
PREPARE_THRESHOLD = 5
SUPPORTED_DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}
MINIMUM_SECRET_KEY_LENGTH = 50


class ConfigurationError(ImproperlyConfigured):
    """A configuration value is missing or malformed; the message is meant for the operator."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a yes/no value: set it to 'true' or 'false'.")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(
            f"{name}={raw!r} is not a whole number: set it to a number between "
            f"{minimum} and {maximum}."
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigurationError(
            f"{name}={value} is out of range: set it to a number between {minimum} and {maximum}."
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def mode() -> str:
    value = (env_str("MIRADOR_MODE", DEMO) or DEMO).lower()
    if value not in MODES:
        raise ConfigurationError(
            f"MIRADOR_MODE={value!r} is not a known mode: set it to 'demo' or 'production'."
        )
    return value


def data_dir(base_dir: Path) -> Path:
    """Where the embedded database, the generated demo secret and uploads live."""
    return Path(env_str("MIRADOR_DATA_DIR", str(base_dir / "var")) or "").resolve()


def time_zone() -> str:
    """MIRADOR_TIME_ZONE: the IANA time zone whose calendar the pages and the API count days in
    (today, due dates, overdue referrals) and show times in; UTC unless set. Reception centres
    count their own days in their own time zones, whatever this says."""
    name = env_str("MIRADOR_TIME_ZONE", "UTC") or "UTC"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigurationError(
            f"MIRADOR_TIME_ZONE={name!r} is not an IANA time zone: set it to one such as "
            "America/Tegucigalpa, or leave it unset for UTC."
        ) from None
    return name


def database_settings(*, default_sqlite_path: Path, production: bool) -> dict[str, object]:
    """Parse MIRADOR_DATABASE_URL (sqlite:///path or postgresql://user@host:port/name)."""
    import dj_database_url

    url = env_str("MIRADOR_DATABASE_URL")
    if url is None:
        if production:
            raise ConfigurationError(
                "MIRADOR_DATABASE_URL is not set: production needs a PostgreSQL database, "
                "e.g. MIRADOR_DATABASE_URL=postgresql://mirador@127.0.0.1:5432/mirador."
            )
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite_path)}
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigurationError(
            f"MIRADOR_DATABASE_URL has the scheme {scheme or '(none)'!r}, which Mirador does not "
            "support: use postgresql://USER@HOST:PORT/NAME or sqlite:///PATH."
        )
    try:
        parsed = dict(dj_database_url.parse(url, conn_max_age=60 if production else 0))
    except ValueError as error:
        raise ConfigurationError(
            f"MIRADOR_DATABASE_URL could not be read ({error}): use "
            "postgresql://USER@HOST:PORT/NAME or sqlite:///PATH."
        ) from None
    if not parsed.get("NAME"):
        raise ConfigurationError(
            "MIRADOR_DATABASE_URL names no database: add it after the last slash, "
            "e.g. postgresql://postgres@127.0.0.1:5432/mirador."
        )
    if parsed["ENGINE"] == "django.db.backends.sqlite3" and production:
        raise ConfigurationError(
            "MIRADOR_DATABASE_URL points at SQLite, which production does not use: "
            "give a PostgreSQL URL."
        )
    if parsed["ENGINE"] == "django.db.backends.postgresql":
        parsed["OPTIONS"] = postgresql_options()
    return parsed


def postgresql_options() -> dict[str, object]:
    """Parameters sent apart from the SQL text (server-side binding), so that the same query
    has the same text each time and psycopg prepares it on the connection once it has run
    PREPARE_THRESHOLD times: PostgreSQL then plans it once instead of on every request
    (about a quarter of its work for a registration). A connection pooler in transaction mode
    older than PgBouncer 1.21 cannot keep prepared statements:
    MIRADOR_DATABASE_PREPARED_STATEMENTS=false turns them off."""
    prepared = env_bool("MIRADOR_DATABASE_PREPARED_STATEMENTS", True)
    return {
        "server_side_binding": True,
        "prepare_threshold": PREPARE_THRESHOLD if prepared else None,
    }


def secret_key(*, data_directory: Path, production: bool) -> str:
    key = env_str("MIRADOR_SECRET_KEY")
    if key is not None:
        if production and len(key) < MINIMUM_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"MIRADOR_SECRET_KEY is too short ({len(key)} characters): production needs at "
                f"least {MINIMUM_SECRET_KEY_LENGTH} random characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
            )
        return key
    if production:
        raise ConfigurationError(
            "MIRADOR_SECRET_KEY is not set: production needs a long random secret, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )
    # Demo mode: a random key kept beside the embedded database, so sessions survive restarts
    # without a shared, guessable default.
    key_file = data_directory / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def boundaries_dir(*, base_dir: Path, production: bool) -> Path | None:
    """Where the published boundary files (GeoJSON) of the dashboards' maps are kept:
    MIRADOR_BOUNDARIES_DIR; in demo mode, by default the `geo` folder of the shared data kept
    beside the checkout (MIRADOR_SHARED_DATA, else ../shared/data), like the demo's samples;
    in production none unless set (the maps then say so and show their tables only)."""
    configured = env_str("MIRADOR_BOUNDARIES_DIR")
    if configured is None:
        if production:
            return None
        shared = env_str("MIRADOR_SHARED_DATA") or str(base_dir.parent / "shared" / "data")
        return Path(shared) / "geo"
    path = Path(configured).expanduser()
    if not path.is_dir():
        raise ConfigurationError(
            f"MIRADOR_BOUNDARIES_DIR={configured!r} is not a directory: point it at the folder "
            "holding the boundary files (GeoJSON), or unset it to show maps' tables only."
        )
    return path.resolve()
