"""Observation's dataset and batch lose their database foreign key constraints, and the
dataset its own index (the unique constraint's and flows_obs_dataset_citizen both start with
it).

PostgreSQL checks a foreign key once per inserted row, at commit: 8.6 s of the 20 s a million
observations take to store (benchmarks/import_cbp.py; the COPY of the same rows took 13.1 s
without them). What they guarded still holds: every observation is written by an import under
the batch it has just created and the dataset its mapping names, in one transaction; batches
are never deleted (on_delete PROTECT in the ORM, and a rollback keeps the batch), and
datasets only by a migration's reversal when nothing was imported into them. The unique
constraint on the coordinates within a batch stays.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0005_missing_migrants"),
    ]

    operations = [
        migrations.AlterField(
            model_name="observation",
            name="batch",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="observations",
                to="flows.importbatch",
            ),
        ),
        migrations.AlterField(
            model_name="observation",
            name="dataset",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="observations",
                to="flows.dataset",
            ),
        ),
    ]
