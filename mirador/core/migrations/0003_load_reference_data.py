"""Load the reference data: countries (ISO 3166-1) with their RCM status, the subdivisions
(ISO 3166-2) of the RCM member states, organisation types, and the organisations, reception
centres and consulates of core/data/*.csv.

The loader (mirador.core.reference_data) takes the historical app registry, so it runs against
the models as they stand at this migration. If those models change later, the loader must keep
working with this state or this migration must stop calling it.

Reversing is a no-op: reversing 0001 drops the tables anyway, and deleting the rows alone would
fail (users and records point at countries and organisations) or orphan data.
"""

from django.db import migrations


def load(apps, schema_editor):
    from mirador.core.reference_data import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_entry_append_only")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop, elidable=False)]
