"""The observatory's "returns-persons" dataset: the returns registered at Mirador's reception
centres counted as events and as persons, and of the persons those followed for twelve months
and those returned again within those twelve months, by `mirador.returns.persons_returned`
(`mirador rollup_returns`). Beside "returns-received", which counts return events from every
source (national tables too); see docs/profiles.md, "Events and persons".

The four counts are codes of the "measure" code list: figures of different measures are
never added up (the persons are fewer than the events, the followed persons are part of the
persons returned, and those returned again part of the followed).

Reversing removes the dataset only if nothing was imported into it, and the codes only if no
figure uses them.
"""

from django.db import migrations

CODE = "returns-persons"
DIMENSIONS = ("reporting_country", "from_country", "age_group", "measure")
MEASURES = (
    ("return-events", "Returns (events)", "Retornos (eventos)"),
    ("persons-returned", "Persons returned", "Personas retornadas"),
    (
        "persons-followed-12m",
        "Persons returned whose 12 months of follow-up have elapsed",
        "Personas retornadas cuyos 12 meses de seguimiento han transcurrido",
    ),
    (
        "persons-returned-again-12m",
        "Persons returned again within 12 months",
        "Personas retornadas de nuevo en los 12 meses siguientes",
    ),
)


def create(apps, schema_editor):
    CodeList = apps.get_model("flows", "CodeList")
    Code = apps.get_model("flows", "Code")
    Dataset = apps.get_model("flows", "Dataset")
    Dimension = apps.get_model("flows", "Dimension")
    measures = CodeList.objects.get(code="measure")
    for code, name_en, name_es in MEASURES:
        Code.objects.update_or_create(
            code_list=measures, code=code, defaults={"name_en": name_en, "name_es": name_es}
        )
    dataset, _ = Dataset.objects.update_or_create(
        code=CODE,
        defaults={
            "name_en": "Persons returned",
            "name_es": "Personas retornadas",
            "description": (
                "Returns registered at Mirador's reception centres, counted as events (every "
                "arrival) and as persons (each person once a calendar year, in the month of "
                "their first return that year), by country returned from and age group; with, "
                "for the months whose twelve months of follow-up have elapsed, the persons "
                "followed and those returned again within twelve months (the re-return "
                "rate). The measure tells the counts apart: never add them together."
            ),
        },
    )
    dataset.dimensions.set(Dimension.objects.filter(code__in=DIMENSIONS))


def remove(apps, schema_editor):
    Code = apps.get_model("flows", "Code")
    Dataset = apps.get_model("flows", "Dataset")
    ImportBatch = apps.get_model("flows", "ImportBatch")
    Observation = apps.get_model("flows", "Observation")
    if not ImportBatch.objects.filter(dataset__code=CODE).exists():
        Dataset.objects.filter(code=CODE).delete()
    codes = [code for code, _en, _es in MEASURES]
    if not Observation.objects.filter(measure__in=codes).exists():
        Code.objects.filter(code_list__code="measure", code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0004_centre_contingency_periods"),
        ("flows", "0006_observation_foreign_keys_unchecked"),
    ]
    operations = [migrations.RunPython(create, remove, elidable=False)]
