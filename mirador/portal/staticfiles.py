"""plotly.js for the dashboards' charts, served as a static file from the installed plotly
package's own copy (plotly/package_data/plotly.min.js), never from a CDN: the portal works
offline and behind firewalls, and the version drawn is the version installed.

A staticfiles finder rather than a copy in the repository, so that upgrading plotly upgrades
the file; `collectstatic` collects it with the others in production, and whitenoise serves it
from the finders in the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PREFIX = "vendor/plotly"
PLOTLY_FILE = "plotly.min.js"
# The URL path under STATIC_URL, for templates: {% static PLOTLY_STATIC_PATH %}.
PLOTLY_STATIC_PATH = f"{PLOTLY_STATIC_PREFIX}/{PLOTLY_FILE}"


def plotly_package_data() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data"


class PlotlyFinder(BaseFinder):
    """Finds vendor/plotly/plotly.min.js in the installed plotly package, and nothing else of
    it (its datasets and widget bundle are not for the web)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=plotly_package_data())
        self.storage.prefix = PLOTLY_STATIC_PREFIX  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if not (plotly_package_data() / PLOTLY_FILE).is_file():
            return [
                Error(
                    f"plotly's {PLOTLY_FILE} is missing from {plotly_package_data()}: "
                    "reinstall Mirador's dependencies (pip install .).",
                    id="portal.E001",
                )
            ]
        return []

    def find(  # type: ignore[override]
        self, path: str, find_all: bool = False, **kwargs: Any
    ) -> str | list[str]:
        if path == PLOTLY_STATIC_PATH:
            found = str(plotly_package_data() / PLOTLY_FILE)
            return [found] if find_all else found
        return [] if find_all else ""

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        yield PLOTLY_FILE, self.storage
