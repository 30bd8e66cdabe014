"""The "population" dataset: total population of a country (reporting_country) at mid-year,
in persons, for rates per 100,000 inhabitants. Loaded with the mapping
mirador/analytics/formats/un_population.toml (UN World Population Prospects).

Reversing removes the dataset only if nothing was imported into it.
"""

from django.db import migrations

CODE = "population"


def create(apps, schema_editor):
    Dataset = apps.get_model("flows", "Dataset")
    Dimension = apps.get_model("flows", "Dimension")
    dataset, _ = Dataset.objects.update_or_create(
        code=CODE,
        defaults={
            "name_en": "Population",
            "name_es": "Población",
            "description": (
                "Total population of a country at mid-year, in persons (UN World Population "
                "Prospects): the denominator of rates per 100,000 inhabitants."
            ),
        },
    )
    dataset.dimensions.set(Dimension.objects.filter(code="reporting_country"))


def remove(apps, schema_editor):
    Dataset = apps.get_model("flows", "Dataset")
    ImportBatch = apps.get_model("flows", "ImportBatch")
    if not ImportBatch.objects.filter(dataset__code=CODE).exists():
        Dataset.objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("flows", "0006_observation_foreign_keys_unchecked")]
    operations = [migrations.RunPython(create, remove, elidable=False)]
