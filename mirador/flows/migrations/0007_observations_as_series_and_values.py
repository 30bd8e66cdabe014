"""Current figures stored as series and values; Observation becomes a view over them.

The table flows_observation held one row of 24 columns per figure, with a unique index over 21
of them maintained row by row: copying rows into it ran at 61 000 rows a second, a twelfth of
PostgreSQL's COPY of the same file into a bare table (benchmarks/import_cbp.py). Now:
- flows_series: what a batch's figures share apart from their period (dataset, batch, period
  type, source sheet, the sixteen dimension columns), unique together: rows / periods rows.
- flows_seriesvalue: one row per figure, five narrow columns: series_id, period, value,
  source_row, current_since. Series and period are its primary key, so one figure per series
  and period is checked by one index, which also holds the count, so that the sums over a
  selection of series read the index alone once the table is vacuumed (an index-only scan;
  autovacuum visits a table soon after a large insert). On PostgreSQL the table is
  partitioned by series id range: the shared partition holds the figures of series ids below
  256 * 2**28 (those flows_series' own sequence gives), and a large import adds a partition
  of its own for series ids n * 2**28 to (n + 1) * 2**28, n from the sequence flows_seriesvalue_partition
  (from 256), built and attached by flows.storage.
- flows_observation: a view joining the two with the columns the table had (and series_id), so
  that every read stays as it was; its id is computed: the series' id shifted left by 18 bits,
  plus the period's day offset from 1800-01-01.

The figures are carried over (each distinct dataset, batch, period type, sheet and coordinates
becomes a series); reversed, the table is rebuilt with its constraints and filled back.
History (flows_observationhistory) is unchanged.
"""

import django.db.models.deletion
from django.db import migrations, models

DIMENSIONS = (
    "reporting_country",
    "from_country",
    "to_country",
    "citizenship",
    "sex",
    "age_group",
    "demographic",
    "unaccompanied",
    "means",
    "subdivision",
    "authority",
    "encounter_type",
    "component",
    "route",
    "cause",
    "measure",
)
SERIES_COLUMNS = ("dataset_id", "batch_id", "period_type", "source_sheet", *DIMENSIONS)
# The shared partition: series ids below 256 * 2**28; a large import's partition n (from 256):
# series ids n * 2**28 to (n + 1) * 2**28.
SHARED_SERIES_END = 256 << 28
FIRST_PARTITION, LAST_PARTITION = 256, (1 << 35) - 1
# An observation's id (the view's): the series' id shifted left by 18 bits, plus the period's
# day offset from 1800-01-01.
DAY_OFFSET = {
    "postgresql": "({period} - DATE '1800-01-01')",
    "sqlite": "CAST(julianday({period}) - julianday('1800-01-01') AS INTEGER)",
}


def _vendor(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in DAY_OFFSET:
        raise NotImplementedError(f"flows migration 0007 knows PostgreSQL and SQLite, not {vendor}")
    return vendor


def partition_series_values(apps, schema_editor):
    """On PostgreSQL the table CreateModel made becomes a partitioned one, with its shared
    partition and the sequence numbering the partitions of large imports."""
    if _vendor(schema_editor) != "postgresql":
        return
    schema_editor.execute("DROP TABLE flows_seriesvalue")
    schema_editor.execute(
        "CREATE TABLE flows_seriesvalue ("
        "series_id bigint NOT NULL, "
        "period date NOT NULL, "
        'value bigint NOT NULL CHECK ("value" >= 0), '
        'source_row bigint NULL CHECK ("source_row" >= 0), '
        "current_since timestamp with time zone NULL, "
        "CONSTRAINT flows_seriesvalue_pkey PRIMARY KEY (series_id, period) INCLUDE (value)"
        ") PARTITION BY RANGE (series_id)"
    )
    schema_editor.execute(
        "CREATE TABLE flows_seriesvalue_shared PARTITION OF flows_seriesvalue "
        f"FOR VALUES FROM (MINVALUE) TO ({SHARED_SERIES_END})"
    )
    schema_editor.execute(
        f"CREATE SEQUENCE flows_seriesvalue_partition START WITH {FIRST_PARTITION} "
        f"MINVALUE {FIRST_PARTITION} MAXVALUE {LAST_PARTITION} NO CYCLE"
    )


def unpartition_series_values(apps, schema_editor):
    if _vendor(schema_editor) != "postgresql":
        return
    schema_editor.execute("DROP TABLE flows_seriesvalue CASCADE")  # with every partition
    schema_editor.execute("DROP SEQUENCE flows_seriesvalue_partition")
    schema_editor.create_model(apps.get_model("flows", "SeriesValue"))


def _same_series(series: str, figure: str) -> str:
    return " AND ".join(f"{series}.{column} = {figure}.{column}" for column in SERIES_COLUMNS)


def carry_figures_over(apps, schema_editor):
    vendor = _vendor(schema_editor)
    columns = ", ".join(SERIES_COLUMNS)
    schema_editor.execute(
        f"INSERT INTO flows_series ({columns}) SELECT DISTINCT {columns} FROM flows_observation"  # noqa: S608 (names are this migration's constants)
    )
    if vendor == "postgresql":
        # The planner cannot tell that the twenty equal columns match one series per figure
        # (it multiplies their selectivities) and would loop over the series: 164 s instead
        # of 4 for 500 000 figures. A hash join it is.
        schema_editor.execute("ANALYZE flows_series")
        schema_editor.execute("SET LOCAL enable_nestloop = off")
        schema_editor.execute("SET LOCAL enable_mergejoin = off")
    schema_editor.execute(
        "INSERT INTO flows_seriesvalue (series_id, period, value, source_row, current_since) "  # noqa: S608 (names are this migration's constants)
        "SELECT s.id, o.period, o.value, o.source_row, o.current_since "
        f"FROM flows_observation o JOIN flows_series s ON {_same_series('s', 'o')}"
    )
    if vendor == "postgresql":
        schema_editor.execute("RESET enable_nestloop")
        schema_editor.execute("RESET enable_mergejoin")


def carry_figures_back(apps, schema_editor):
    _vendor(schema_editor)
    series_columns = ", ".join(f"s.{column}" for column in SERIES_COLUMNS)
    schema_editor.execute(
        f"INSERT INTO flows_observation ({', '.join(SERIES_COLUMNS)}, period, value, "  # noqa: S608 (names are this migration's constants)
        "source_row, current_since) "
        f"SELECT {series_columns}, v.period, v.value, v.source_row, v.current_since "
        "FROM flows_seriesvalue v JOIN flows_series s ON s.id = v.series_id"
    )


def view_sql(vendor: str) -> str:
    """The view: every column the table had, and the series; the id computed (unique, as the
    series and the period are)."""
    series_columns = ", ".join(f"s.{column}" for column in SERIES_COLUMNS)
    offset = DAY_OFFSET[vendor].format(period="v.period")
    return (
        "CREATE VIEW flows_observation AS "  # noqa: S608 (names are this migration's constants)
        f"SELECT ((v.series_id << 18) | {offset}) AS id, v.series_id AS series_id, "
        f"{series_columns}, v.period AS period, v.value AS value, "
        "v.source_row AS source_row, v.current_since AS current_since "
        "FROM flows_seriesvalue v JOIN flows_series s ON s.id = v.series_id"
    )


def table_to_view(apps, schema_editor):
    vendor = _vendor(schema_editor)
    schema_editor.delete_model(apps.get_model("flows", "Observation"))
    schema_editor.execute(view_sql(vendor))


def view_to_table(apps, schema_editor):
    _vendor(schema_editor)
    schema_editor.execute("DROP VIEW flows_observation")
    schema_editor.create_model(apps.get_model("flows", "Observation"))


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0006_observation_foreign_keys_unchecked"),
    ]

    operations = [
        migrations.CreateModel(
            name="Series",
            fields=[
                (
                    "reporting_country",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="reporting country"
                    ),
                ),
                (
                    "from_country",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="from country"
                    ),
                ),
                (
                    "to_country",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="to country"
                    ),
                ),
                (
                    "citizenship",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="citizenship"
                    ),
                ),
                (
                    "sex",
                    models.CharField(blank=True, default="", max_length=40, verbose_name="sex"),
                ),
                (
                    "age_group",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="age group"
                    ),
                ),
                (
                    "demographic",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="demographic group"
                    ),
                ),
                (
                    "unaccompanied",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="unaccompanied minor"
                    ),
                ),
                (
                    "means",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="means of transport"
                    ),
                ),
                (
                    "subdivision",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="subdivision"
                    ),
                ),
                (
                    "authority",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="authority"
                    ),
                ),
                (
                    "encounter_type",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="encounter type"
                    ),
                ),
                (
                    "component",
                    models.CharField(
                        blank=True, default="", max_length=40, verbose_name="component"
                    ),
                ),
                (
                    "route",
                    models.CharField(blank=True, default="", max_length=40, verbose_name="route"),
                ),
                (
                    "cause",
                    models.CharField(blank=True, default="", max_length=40, verbose_name="cause"),
                ),
                (
                    "measure",
                    models.CharField(blank=True, default="", max_length=40, verbose_name="measure"),
                ),
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "period_type",
                    models.CharField(
                        choices=[("month", "Month"), ("year", "Year")],
                        max_length=10,
                        verbose_name="period type",
                    ),
                ),
                (
                    "source_sheet",
                    models.CharField(blank=True, max_length=120, verbose_name="source sheet"),
                ),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="series",
                        to="flows.importbatch",
                    ),
                ),
                (
                    "dataset",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="series",
                        to="flows.dataset",
                    ),
                ),
            ],
            options={
                "verbose_name": "series",
                "verbose_name_plural": "series",
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "dataset",
                            "batch",
                            "period_type",
                            "source_sheet",
                            *DIMENSIONS,
                        ),
                        name="flows_series_unique_coordinates",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SeriesValue",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "series",
                        "period",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "series",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="values",
                        to="flows.series",
                    ),
                ),
                ("period", models.DateField(verbose_name="period (first day)")),
                ("value", models.PositiveBigIntegerField(verbose_name="value")),
                (
                    "source_row",
                    models.PositiveBigIntegerField(
                        blank=True, null=True, verbose_name="source row"
                    ),
                ),
                (
                    "current_since",
                    models.DateTimeField(blank=True, null=True, verbose_name="current since"),
                ),
            ],
            options={
                "verbose_name": "series value",
                "verbose_name_plural": "series values",
            },
        ),
        migrations.RunPython(partition_series_values, unpartition_series_values),
        migrations.RunPython(carry_figures_over, carry_figures_back),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="observation", name="flows_observation_unique_coordinates"
                ),
                migrations.RemoveConstraint(
                    model_name="observation", name="flows_observation_value_not_negative"
                ),
                migrations.RemoveIndex(model_name="observation", name="flows_obs_dataset_citizen"),
                migrations.AlterField(
                    model_name="observation",
                    name="id",
                    field=models.BigIntegerField(
                        blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                migrations.AddField(
                    model_name="observation",
                    name="series",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        default=None,
                        editable=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="observations",
                        to="flows.series",
                    ),
                    preserve_default=False,
                ),
                migrations.AlterModelOptions(
                    name="observation",
                    options={
                        "managed": False,
                        "verbose_name": "observation",
                        "verbose_name_plural": "observations",
                    },
                ),
                migrations.AlterModelTable(name="observation", table="flows_observation"),
            ],
            database_operations=[
                migrations.RunPython(table_to_view, view_to_table),
            ],
        ),
    ]
