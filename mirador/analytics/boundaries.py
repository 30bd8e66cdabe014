"""Boundaries of subdivisions (departments, states) for the dashboards' maps.

The boundary files are published data (geoBoundaries' ADM1 GeoJSON, CC BY 4.0), read from the
directory MIRADOR_BOUNDARIES_DIR names and never copied into Mirador. A country's file is
found by the publisher's naming (`geoBoundaries-GTM-ADM1_simplified.geojson`, ISO alpha-3);
each feature's code (`shapeISO`) becomes the ISO 3166-2 code Mirador stores through the
crosswalk kept as data in analytics/data/subdivision_code_crosswalk.csv (geoBoundaries'
Guatemala still has the old alphabetic codes, GT-AV for GT-16), or is taken as it is when it
already is a subdivision of the country.

The shapes are drawn as SVG paths, projected once per file (cached until the file changes):
an equirectangular projection scaled by the cosine of the middle latitude, which at the size
of one country is indistinguishable from a conformal one, fitted to MAP_WIDTH. Drawn by
Mirador rather than by plotly's geo maps, because those fetch their base layers from
plotly's CDN even when given a GeoJSON (plotly.js issue 6767), and so that the map works
without JavaScript.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from mirador.core.models import Country, Subdivision

logger = logging.getLogger(__name__)

CROSSWALK = Path(__file__).resolve().parent / "data" / "subdivision_code_crosswalk.csv"
MAP_WIDTH = 600
# Coordinates are rounded to this fraction of the map's width: finer than a screen shows,
# coarse enough that the paths of 22 departments weigh tens of kilobytes, not hundreds.
PRECISION = 1
# Points closer than this (in the map's pixels) to the outline through their neighbours are
# left out: invisible at any size the page shows.
TOLERANCE = 0.35
# (file name pattern, with {alpha3} and {alpha2} of the country; attribution the licence asks)
BOUNDARY_FILES: tuple[tuple[str, str], ...] = (
    ("geoBoundaries-{alpha3}-ADM1*.geojson", "geoBoundaries (www.geoboundaries.org), CC BY 4.0"),
    ("{alpha3}-ADM1*.geojson", ""),
    ("{alpha2}-subdivisions*.geojson", ""),
)
CODE_PROPERTIES = ("shapeISO", "iso_3166_2", "ISO3166-2")
NAME_PROPERTIES = ("shapeName", "name", "NAME")


@dataclass(frozen=True)
class Shape:
    code: str  # ISO 3166-2
    name: str  # as the file names it
    path: str  # SVG path data in the map's coordinates


@dataclass(frozen=True)
class CountryBoundaries:
    country: str  # ISO 3166-1 alpha-2
    file_name: str
    attribution: str
    width: int
    height: int
    shapes: tuple[Shape, ...]
    # Codes of the file's features that are no subdivision of the country (left off the map).
    unmatched: tuple[str, ...] = ()

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def boundaries_directory() -> Path | None:
    configured = getattr(settings, "MIRADOR_BOUNDARIES_DIR", None)
    if not configured:
        return None
    path = Path(configured)
    return path if path.is_dir() else None


@functools.cache
def code_crosswalk() -> dict[str, str]:
    """Code in a boundary file -> ISO 3166-2 code."""
    with CROSSWALK.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["iso_3166_2"] for row in csv.DictReader(handle)}


def boundary_file(*, country: Country) -> tuple[Path, str] | None:
    """The country's boundary file in the configured directory, with its attribution."""
    directory = boundaries_directory()
    if directory is None:
        return None
    for pattern, attribution in BOUNDARY_FILES:
        found = sorted(directory.glob(pattern.format(alpha3=country.alpha3, alpha2=country.alpha2)))
        if found:
            return found[0], attribution
    return None


def country_boundaries(*, country: Country) -> CountryBoundaries | None:
    """The shapes of the country's subdivisions, or None when no boundary file is kept for
    it (or the file cannot be read: logged, and the page shows the table only)."""
    found = boundary_file(country=country)
    if found is None:
        return None
    path, attribution = found
    known = frozenset(
        Subdivision.objects.filter(country=country).values_list("code", flat=True).order_by()
    )
    stat = path.stat()
    try:
        return _read_boundaries(
            str(path), stat.st_mtime_ns, stat.st_size, country.alpha2, attribution, known
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        logger.warning("boundary file %s could not be read: %s", path.name, error)
        return None


@functools.lru_cache(maxsize=32)
def _read_boundaries(
    path: str,
    _mtime_ns: int,
    _size: int,
    country: str,
    attribution: str,
    known: frozenset[str],
) -> CountryBoundaries:
    with open(path, encoding="utf-8") as handle:
        collection = json.load(handle)
    crosswalk = code_crosswalk()
    features: list[tuple[str, str, list[list[tuple[float, float]]]]] = []
    unmatched: list[str] = []
    for feature in collection["features"]:
        properties = feature.get("properties") or {}
        raw = _first(properties, CODE_PROPERTIES)
        code = crosswalk.get(raw, raw)
        if code not in known:
            unmatched.append(raw)
            continue
        rings = list(_rings(feature["geometry"]))
        if rings:
            features.append((code, _first(properties, NAME_PROPERTIES) or code, rings))
    if unmatched:
        logger.warning(
            "boundary file %s: %d features have no known subdivision code (%s)",
            Path(path).name,
            len(unmatched),
            ", ".join(sorted(unmatched)[:10]),
        )
    points = [point for _code, _name, rings in features for ring in rings for point in ring]
    if not points:
        raise ValueError("no shapes of known subdivisions")
    west = min(lon for lon, _lat in points)
    east = max(lon for lon, _lat in points)
    south = min(lat for _lon, lat in points)
    north = max(lat for _lon, lat in points)
    stretch = math.cos(math.radians((north + south) / 2))
    scale = MAP_WIDTH / max((east - west) * stretch, 1e-9)
    height = max(1, math.ceil((north - south) * scale))

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - west) * stretch * scale, PRECISION),
            round((north - lat) * scale, PRECISION),
        )

    shapes = tuple(
        Shape(
            code=code,
            name=name,
            path=_path([[project(*point) for point in ring] for ring in rings]),
        )
        for code, name, rings in sorted(features)
    )
    return CountryBoundaries(
        country=country,
        file_name=Path(path).name,
        attribution=attribution,
        width=MAP_WIDTH,
        height=height,
        shapes=shapes,
        unmatched=tuple(sorted(unmatched)),
    )


def _first(properties: dict[str, Any], names: Sequence[str]) -> str:
    for name in names:
        value = properties.get(name)
        if value:
            return str(value)
    return ""


def _rings(geometry: dict[str, Any]) -> Iterable[list[tuple[float, float]]]:
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        return
    for polygon in polygons:
        for ring in polygon:
            if len(ring) >= 3:
                yield [(float(point[0]), float(point[1])) for point in ring]


def _simplified(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Ramer-Douglas-Peucker: the points that matter at TOLERANCE pixels (the others lie
    closer than that to the line through their neighbours). A few lines for a few thousand
    points, where a geometry library would be a dependency for one function."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1)
        farthest, distance = -1, TOLERANCE
        for index in range(first + 1, last):
            x, y = points[index]
            if length:
                away = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
            else:
                away = math.hypot(x - x1, y - y1)
            if away > distance:
                farthest, distance = index, away
        if farthest >= 0:
            keep[farthest] = True
            stack += [(first, farthest), (farthest, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def _path(rings: Sequence[Sequence[tuple[float, float]]]) -> str:
    """SVG path data: each ring a closed sub-path, simplified, points that round to the one
    before dropped."""
    parts: list[str] = []
    for ring in rings:
        kept: list[tuple[float, float]] = []
        for point in _simplified(ring):
            if not kept or point != kept[-1]:
                kept.append(point)
        if len(kept) < 3:
            continue
        head, *rest = (f"{x:g} {y:g}" for x, y in kept)
        parts.append(f"M{head}L" + " ".join(rest) + "Z")
    return "".join(parts)
