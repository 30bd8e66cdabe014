"""Load flows/data/statistical_model.toml again for what it added after 0002: the
"migrant-stock" dataset (UN DESA's international migrant stock by destination and origin).

Loading again updates names and adds what is new, and never deletes. Reversing removes the
dataset only if nothing was imported into it.
"""

from django.db import migrations


def load(apps, schema_editor):
    from mirador.flows.reference import load_statistical_model

    load_statistical_model(apps)


def unload(apps, schema_editor):
    Dataset = apps.get_model("flows", "Dataset")
    ImportBatch = apps.get_model("flows", "ImportBatch")
    if not ImportBatch.objects.filter(dataset__code="migrant-stock").exists():
        Dataset.objects.filter(code="migrant-stock").delete()


class Migration(migrations.Migration):
    dependencies = [("flows", "0002_load_statistical_model")]
    operations = [migrations.RunPython(load, unload, elidable=False)]
