"""Loads the observatory's code lists, dimensions and datasets from
`flows/data/statistical_model.toml` (data, not code: a country's new breakdown is a new code).

Takes an app registry so that a data migration can run it against its historical models;
loading again updates names and adds what is new, and never deletes.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps

STATISTICAL_MODEL_TOML = Path(__file__).resolve().parent / "data" / "statistical_model.toml"


def load_statistical_model(apps: Any = global_apps, path: Path = STATISTICAL_MODEL_TOML) -> None:
    CodeList = apps.get_model("flows", "CodeList")
    Code = apps.get_model("flows", "Code")
    Dimension = apps.get_model("flows", "Dimension")
    Dataset = apps.get_model("flows", "Dataset")
    with path.open("rb") as handle:
        model = tomllib.load(handle)

    code_lists = {}
    for code, entry in model["code_lists"].items():
        code_list, _ = CodeList.objects.update_or_create(
            code=code,
            defaults={
                "name_en": entry["name_en"],
                "name_es": entry["name_es"],
                "description": entry.get("description", ""),
            },
        )
        code_lists[code] = code_list
        for item in entry["codes"]:
            Code.objects.update_or_create(
                code_list=code_list,
                code=item["code"],
                defaults={"name_en": item["name_en"], "name_es": item["name_es"]},
            )

    dimensions = {}
    for code, entry in model["dimensions"].items():
        dimension, _ = Dimension.objects.update_or_create(
            code=code,
            defaults={
                "name_en": entry["name_en"],
                "name_es": entry["name_es"],
                "kind": entry["kind"],
                "code_list": code_lists.get(entry.get("code_list", "")),
            },
        )
        dimensions[code] = dimension

    for code, entry in model["datasets"].items():
        dataset, _ = Dataset.objects.update_or_create(
            code=code,
            defaults={
                "name_en": entry["name_en"],
                "name_es": entry["name_es"],
                "description": entry.get("description", ""),
            },
        )
        dataset.dimensions.add(*(dimensions[name] for name in entry["dimensions"]))
