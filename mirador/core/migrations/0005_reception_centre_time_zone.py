"""Each reception centre counts its days (capacity, arrivals, expected passengers, intake
figures) in its own time zone: add the field and fill it, from core/data/reception_centres.csv
for the centres listed there and by country (core.reference_data.COUNTRY_TIME_ZONES) for
those added in the admin. Times stay stored in UTC.

Reversing removes the field; the fill has nothing to undo.
"""

import mirador.core.models
from django.db import migrations, models


def fill(apps, schema_editor):
    from mirador.core.reference_data import (
        DATA_DIR,
        RECEPTION_CENTRES_CSV,
        default_time_zone,
        read_csv,
    )

    centre = apps.get_model("core", "ReceptionCentre")
    listed = {}
    path = DATA_DIR / RECEPTION_CENTRES_CSV
    if path.exists():
        for row in read_csv(path, columns=("country", "name")):
            zone = row.values.get("time_zone", "").strip()
            if zone:
                listed[(row.values["country"].strip().upper(), row.values["name"].strip())] = zone
    for each in centre.objects.all():
        each.time_zone = listed.get((each.country_id, each.name)) or default_time_zone(
            each.country_id
        )
        mirador.core.models.validate_time_zone(each.time_zone)
        each.save(update_fields=["time_zone"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_directory_provider_organisations"),
    ]

    operations = [
        migrations.AddField(
            model_name="receptioncentre",
            name="time_zone",
            field=models.CharField(
                default="UTC",
                help_text="IANA time zone of the centre, e.g. America/Tegucigalpa: its days are counted in it.",
                max_length=64,
                validators=[mirador.core.models.validate_time_zone],
                verbose_name="time zone",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
    ]
