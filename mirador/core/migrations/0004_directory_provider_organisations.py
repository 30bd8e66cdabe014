"""Add the organisations whose staff answer referrals in the services directory
(mirador.directory): INFOP, Honduras's public vocational-training institute, and CADERH, a
Honduran non-profit network of vocational-training centres. core/data/organisations.csv lists
them too, so that a new database gets them from 0003; this migration adds them to databases
migrated before.

Only missing rows are added. Reversing removes the rows again unless something (a user, a
provider, a shared record) points at them, in which case they are kept.
"""

from django.db import migrations, transaction
from django.db.models import ProtectedError, RestrictedError

ORGANISATIONS = (
    # name, acronym, kind, country, website
    (
        "Instituto Nacional de Formación Profesional",
        "INFOP",
        "government",
        "HN",
        "https://www.infop.hn",
    ),
    (
        "Centro Asesor para el Desarrollo de los Recursos Humanos de Honduras",
        "CADERH",
        "civil-society",
        "HN",
        "",
    ),
)


def add(apps, schema_editor):
    organisation = apps.get_model("core", "Organisation")
    country = apps.get_model("core", "Country")
    kind = apps.get_model("core", "OrganisationType")
    for name, acronym, kind_code, country_code, website in ORGANISATIONS:
        # A database without reference data (nothing loaded by 0003) gets nothing here either.
        if not (
            country.objects.filter(pk=country_code).exists()
            and kind.objects.filter(pk=kind_code).exists()
        ):
            continue
        organisation.objects.get_or_create(
            name=name,
            country_id=country_code,
            defaults={"acronym": acronym, "kind_id": kind_code, "website": website},
        )


def remove(apps, schema_editor):
    organisation = apps.get_model("core", "Organisation")
    for name, _acronym, _kind, country_code, _website in ORGANISATIONS:
        try:
            with transaction.atomic():
                organisation.objects.filter(name=name, country_id=country_code).delete()
        except (ProtectedError, RestrictedError):
            continue


class Migration(migrations.Migration):
    dependencies = [("core", "0003_load_reference_data")]
    operations = [migrations.RunPython(add, remove, elidable=False)]
