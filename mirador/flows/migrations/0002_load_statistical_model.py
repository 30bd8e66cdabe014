"""Load the observatory's code lists, dimensions and datasets from
flows/data/statistical_model.toml.

The loader (mirador.flows.reference) takes the historical app registry. Reversing deletes the
rows this migration adds (nothing else can point at them yet at this state).
"""

from django.db import migrations


def load(apps, schema_editor):
    from mirador.flows.reference import load_statistical_model

    load_statistical_model(apps)


def unload(apps, schema_editor):
    for name in ("Dataset", "Dimension", "Code", "CodeList"):
        apps.get_model("flows", name).objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("flows", "0001_statistical_model")]
    operations = [migrations.RunPython(load, unload, elidable=False)]
