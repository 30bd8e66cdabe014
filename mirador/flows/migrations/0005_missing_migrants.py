"""Load flows/data/statistical_model.toml again for what it added after 0004: the measure
dimension and its code list, the IOM Missing Migrants Project's routes and causes of death,
the "_M" (several countries) country group, and the "missing-migrants" dataset.

Loading again updates names and adds what is new, and never deletes. Reversing removes the
dataset, the codes and the measure dimension only if nothing was imported into the dataset,
and a code only if no observation (current or past) uses it.
"""

from django.db import migrations

DATASET = "missing-migrants"
# Code list -> (the codes this migration adds, None for all; the Observation columns using them).
NEW_CODES = {
    "route": (None, ["route"]),
    "cause": (None, ["cause"]),
    "measure": (None, ["measure"]),
    "country-groups": (["_M"], ["from_country", "to_country", "citizenship"]),
}


def load(apps, schema_editor):
    from mirador.flows.reference import load_statistical_model

    load_statistical_model(apps)


def unload(apps, schema_editor):
    Dataset = apps.get_model("flows", "Dataset")
    Dimension = apps.get_model("flows", "Dimension")
    Code = apps.get_model("flows", "Code")
    CodeList = apps.get_model("flows", "CodeList")
    ImportBatch = apps.get_model("flows", "ImportBatch")
    if ImportBatch.objects.filter(dataset__code=DATASET).exists():
        return  # figures and incidents were imported: their codes stay
    Dataset.objects.filter(code=DATASET).delete()
    used_by = [apps.get_model("flows", name) for name in ("Observation", "ObservationHistory")]
    measure = Dimension.objects.filter(code="measure").first()
    if measure is not None and not measure.datasets.exists():
        measure.delete()
    for list_code, (codes, columns) in NEW_CODES.items():
        rows = Code.objects.filter(code_list__code=list_code)
        if codes is not None:
            rows = rows.filter(code__in=codes)
        for code in rows:
            if not any(
                model.objects.filter(**{column: code.code}).exists()
                for model in used_by
                for column in columns
            ):
                code.delete()
    CodeList.objects.filter(code="measure", dimensions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("flows", "0004_history_incidents_measure")]
    operations = [migrations.RunPython(load, unload, elidable=False)]
