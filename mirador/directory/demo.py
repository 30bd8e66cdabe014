"""An illustrative services directory for Honduras, Guatemala and El Salvador, and two demo
referrals, stored through the directory services (validated and audited like real work).

The kinds of providers are real (INFOP trains, the Secretaría de Trabajo's employment
service places, the Red Cross gives first aid, the Pastoral de Movilidad Humana shelters and
takes people home, RNP issues identity documents...); their services, coverage, hours and
contacts here are illustrative (`is_illustrative`), not confirmed by the providers, and carry
no telephone numbers or addresses that could send a returnee to the wrong door.

Referrals: one made at the San Pedro Sula reception centre on an earlier day to the
employment service, still unanswered past its due date, so the sender's overdue list is not
empty; and one to CADERH's job training, whose demo staff account (`caderh.hn`) can answer it.

Loaded once: nothing is added when any illustrative provider exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from mirador.accounts.models import User
from mirador.core.models import Country, Organisation, Subdivision
from mirador.directory.models import Provider, ProviderSector, Referral, ServiceCategory
from mirador.directory.services import provider_create, referral_create, service_create
from mirador.returns.demo import recent_adult_arrivals

DIRECTORY_EDITOR = "admin"
REFERRING_OFFICER = "officer.hn"
# The overdue referral was sent an hour after the person arrived, due the next day.
OVERDUE_SENT_AFTER = datetime.timedelta(hours=1)
OVERDUE_DUE_AFTER_DAYS = 1
ILLUSTRATIVE_ES = "Entrada ilustrativa de demostración; confirme los datos con el proveedor."
ILLUSTRATIVE_EN = "Illustrative demo entry; confirm the details with the provider."


@dataclass(frozen=True)
class DemoService:
    category: str
    name_es: str
    name_en: str
    subdivisions: tuple[str, ...] = ()  # none: the whole country
    languages: tuple[str, ...] = ("es",)
    eligibility_es: str = "Personas retornadas mayores de 18 años."
    eligibility_en: str = "Returnees aged 18 or over."
    opening_hours: str = "Lun–vie 8:00–16:00"


@dataclass(frozen=True)
class DemoProvider:
    country: str
    name: str
    acronym: str
    sector: str
    services: tuple[DemoService, ...]
    # (name, country) of an organisation of core/data/organisations.csv answering referrals.
    organisation: tuple[str, str] | None = None
    website: str = ""
    description_es: str = ""
    description_en: str = ""


ALL_AGES_ES = "Personas retornadas y sus familias, de cualquier edad."
ALL_AGES_EN = "Returnees and their families, of any age."

DEMO_PROVIDERS: tuple[DemoProvider, ...] = (
    # --- Honduras ---------------------------------------------------------------------------
    DemoProvider(
        "HN",
        "Instituto Nacional de Formación Profesional",
        "INFOP",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.TRAINING,
                "Cursos técnicos cortos para personas retornadas",
                "Short technical courses for returnees",
                ("HN-CR", "HN-FM", "HN-AT", "HN-YO"),
                eligibility_es="Mayores de 16 años con documento de identidad.",
                eligibility_en="Aged 16 or over, with an identity document.",
            ),
            DemoService(
                ServiceCategory.TRAINING,
                "Certificación de competencias aprendidas en el exterior",
                "Certification of skills learnt abroad",
            ),
        ),
        organisation=("Instituto Nacional de Formación Profesional", "HN"),
        website="https://www.infop.hn",
        description_es="Institución pública de formación profesional.",
        description_en="Public vocational-training institute.",
    ),
    DemoProvider(
        "HN",
        "Centro Asesor para el Desarrollo de los Recursos Humanos de Honduras",
        "CADERH",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.TRAINING,
                "Formación vocacional en centros asociados",
                "Vocational training at partner centres",
                ("HN-CR", "HN-FM"),
                languages=("es", "en"),
            ),
        ),
        organisation=(
            "Centro Asesor para el Desarrollo de los Recursos Humanos de Honduras",
            "HN",
        ),
        description_es="Red sin fines de lucro de centros de formación vocacional.",
        description_en="Non-profit network of vocational-training centres.",
    ),
    DemoProvider(
        "HN",
        "Servicio Nacional de Empleo de Honduras, Secretaría de Trabajo y Seguridad Social",
        "SENAEH",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.EMPLOYMENT,
                "Intermediación laboral y bolsa de empleo",
                "Job placement and job board",
                ("HN-CR", "HN-FM", "HN-AT", "HN-CH"),
            ),
        ),
        description_es="Servicio público de empleo de la Secretaría de Trabajo.",
        description_en="Public employment service of the Ministry of Labour.",
    ),
    DemoProvider(
        "HN",
        "Cruz Roja Hondureña",
        "CRH",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.HEALTH,
                "Atención de salud básica y primeros auxilios",
                "Basic health care and first aid",
                languages=("es", "en", "cab", "miq"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
                opening_hours="24 horas",
            ),
            DemoService(
                ServiceCategory.PSYCHOSOCIAL,
                "Primeros auxilios psicológicos",
                "Psychological first aid",
                languages=("es", "cab", "miq"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
            ),
        ),
        description_es="Sociedad nacional de la Cruz Roja.",
        description_en="National Red Cross society.",
    ),
    DemoProvider(
        "HN",
        "Pastoral de Movilidad Humana",
        "PMH",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.SHELTER,
                "Albergue temporal para personas retornadas",
                "Temporary shelter for returnees",
                ("HN-CR", "HN-FM"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
                opening_hours="24 horas",
            ),
            DemoService(
                ServiceCategory.TRANSPORT_HOME,
                "Apoyo para el transporte a la comunidad de origen",
                "Help with transport to the home community",
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
            ),
            DemoService(
                ServiceCategory.PSYCHOSOCIAL,
                "Acompañamiento psicosocial",
                "Psychosocial support",
                ("HN-CR", "HN-FM", "HN-CM"),
            ),
        ),
        organisation=("Pastoral de Movilidad Humana", "HN"),
        description_es="Pastoral social de la Iglesia católica para personas migrantes.",
        description_en="The Catholic Church's social ministry for migrants.",
    ),
    DemoProvider(
        "HN",
        "Registro Nacional de las Personas",
        "RNP",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.IDENTITY_DOCUMENTS,
                "Reposición del documento nacional de identificación",
                "Replacement of the national identity document",
                eligibility_es="Hondureños mayores de 18 años.",
                eligibility_en="Hondurans aged 18 or over.",
            ),
            DemoService(
                ServiceCategory.IDENTITY_DOCUMENTS,
                "Certificaciones de nacimiento",
                "Birth certificates",
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
            ),
        ),
        website="https://www.rnp.hn",
        description_es="Registro civil e identificación de Honduras.",
        description_en="Honduras's civil registry and identification authority.",
    ),
    DemoProvider(
        "HN",
        "Consultorio Jurídico Gratuito (ilustrativo)",
        "",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.LEGAL_AID,
                "Asesoría legal gratuita: familia, propiedad, documentos",
                "Free legal advice: family, property, documents",
                ("HN-CR", "HN-FM"),
            ),
        ),
        description_es="Clínica jurídica universitaria que atiende sin costo.",
        description_en="University legal-aid clinic, free of charge.",
    ),
    DemoProvider(
        "HN",
        "Programa de microcrédito para emprendimientos de retornados (ilustrativo)",
        "",
        ProviderSector.PRIVATE,
        (
            DemoService(
                ServiceCategory.CREDIT,
                "Microcrédito y capital semilla",
                "Microcredit and seed capital",
                ("HN-CR", "HN-YO", "HN-OL"),
                eligibility_es="Mayores de 18 años con un plan de negocio.",
                eligibility_en="Aged 18 or over, with a business plan.",
            ),
        ),
        description_es="Cooperativa de ahorro y crédito con una línea para personas retornadas.",
        description_en="Savings and credit cooperative with a line for returnees.",
    ),
    DemoProvider(
        "HN",
        "Programa de vivienda social (ilustrativo)",
        "",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.HOUSING,
                "Bono de vivienda y mejoramiento",
                "Housing grant and home improvement",
                eligibility_es="Familias sin vivienda propia.",
                eligibility_en="Families without a home of their own.",
            ),
        ),
    ),
    DemoProvider(
        "HN",
        "Secretaría de Educación, educación para personas jóvenes y adultas",
        "SEDUC",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.EDUCATION,
                "Completar la educación básica y media",
                "Finishing primary and secondary school",
                languages=("es", "cab", "miq"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
            ),
        ),
    ),
    # --- Guatemala --------------------------------------------------------------------------
    DemoProvider(
        "GT",
        "Instituto Técnico de Capacitación y Productividad",
        "INTECAP",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.TRAINING,
                "Capacitación técnica para personas retornadas",
                "Technical training for returnees",
                ("GT-01", "GT-09", "GT-12", "GT-13"),
                languages=("es", "quc", "mam"),
            ),
        ),
        website="https://www.intecap.edu.gt",
    ),
    DemoProvider(
        "GT",
        "Ministerio de Trabajo y Previsión Social, ventanilla de empleo",
        "MINTRAB",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.EMPLOYMENT,
                "Ventanilla de empleo para personas retornadas",
                "Employment desk for returnees",
                ("GT-01",),
            ),
        ),
    ),
    DemoProvider(
        "GT",
        "Registro Nacional de las Personas",
        "RENAP",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.IDENTITY_DOCUMENTS,
                "Documento personal de identificación (DPI)",
                "Personal identification document (DPI)",
                languages=("es", "quc", "mam", "kek", "cak"),
            ),
        ),
    ),
    DemoProvider(
        "GT",
        "Cruz Roja Guatemalteca",
        "CRG",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.PSYCHOSOCIAL,
                "Apoyo psicosocial",
                "Psychosocial support",
                ("GT-01", "GT-12"),
                languages=("es", "quc"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
            ),
        ),
    ),
    # --- El Salvador ------------------------------------------------------------------------
    DemoProvider(
        "SV",
        "Instituto Salvadoreño de Formación Profesional",
        "INSAFORP",
        ProviderSector.PUBLIC,
        (
            DemoService(
                ServiceCategory.TRAINING,
                "Formación profesional para personas retornadas",
                "Vocational training for returnees",
                ("SV-SS", "SV-SM", "SV-SA"),
            ),
        ),
    ),
    DemoProvider(
        "SV",
        "Cruz Roja Salvadoreña",
        "CRS",
        ProviderSector.CIVIL_SOCIETY,
        (
            DemoService(
                ServiceCategory.HEALTH,
                "Atención prehospitalaria y primeros auxilios",
                "Pre-hospital care and first aid",
                languages=("es", "ppl"),
                eligibility_es=ALL_AGES_ES,
                eligibility_en=ALL_AGES_EN,
                opening_hours="24 horas",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class DirectoryDemoResult:
    providers: int
    services: int
    referrals: int


def directory_demo_is_loaded() -> bool:
    return Provider.objects.filter(is_illustrative=True).exists()


def _organisation(key: tuple[str, str] | None) -> Organisation | None:
    if key is None:
        return None
    name, country = key
    return Organisation.objects.filter(name=name, country_id=country).first()


def _load_providers(editor: User) -> tuple[int, int]:
    providers = services = 0
    countries = {c.pk: c for c in Country.objects.filter(pk__in={"HN", "GT", "SV"})}
    subdivisions = {s.code: s for s in Subdivision.objects.filter(country_id__in=countries)}
    for entry in DEMO_PROVIDERS:
        country = countries.get(entry.country)
        if country is None:
            continue
        provider = Provider.objects.filter(country=country, name=entry.name).first()
        if provider is None:
            provider = provider_create(
                actor=editor,
                name=entry.name,
                sector=entry.sector,
                country=country,
                organisation=_organisation(entry.organisation),
                acronym=entry.acronym,
                website=entry.website,
                description_es=" ".join(filter(None, (entry.description_es, ILLUSTRATIVE_ES))),
                description_en=" ".join(filter(None, (entry.description_en, ILLUSTRATIVE_EN))),
                is_illustrative=True,
            )
            providers += 1
        for item in entry.services:
            if provider.services.filter(name_es=item.name_es).exists():
                continue
            service_create(
                actor=editor,
                provider=provider,
                category=item.category,
                name_es=item.name_es,
                name_en=item.name_en,
                subdivisions=[subdivisions[c] for c in item.subdivisions if c in subdivisions],
                languages=list(item.languages),
                eligibility_es=item.eligibility_es,
                eligibility_en=item.eligibility_en,
                opening_hours=item.opening_hours,
            )
            services += 1
    return providers, services


def _demo_referrals(officer: User) -> int:
    """An overdue referral to the employment service, and one open to CADERH's training."""
    if Referral.objects.filter(sender=officer).exists():
        return 0
    today = timezone.localdate()
    # Of the last days, not of the two years' history (returns.demo_history): a referral
    # overdue since 2024 is not what a centre's list shows.
    arrivals = list(recent_adult_arrivals(today=today)[:2])
    targets = [
        ("SENAEH", ServiceCategory.EMPLOYMENT, True),
        ("CADERH", ServiceCategory.TRAINING, False),
    ]
    made = 0
    for arrival, (acronym, category, overdue) in zip(arrivals, targets, strict=False):
        service = (
            Provider.objects.get(country_id="HN", acronym=acronym)
            .services.filter(category=category)
            .order_by("name_es")
            .first()
        )
        if service is None:
            continue
        referral = referral_create(
            actor=officer,
            person=arrival.person,
            service=service,
            arrival=arrival,
            due_date=today,
            consent_to_share=True,
            note="Demo: busca empleo en la construcción." if overdue else "Demo: soldadura.",
        )
        if overdue:
            # Sent at the centre on the day of the return, due the next day, never answered
            # (the service refuses due dates in the past, which is right for real work).
            sent_at = arrival.arrived_at + OVERDUE_SENT_AFTER
            Referral.objects.filter(pk=referral.pk).update(
                created_at=sent_at,
                due_date=timezone.localtime(sent_at).date()
                + datetime.timedelta(days=OVERDUE_DUE_AFTER_DAYS),
            )
        made += 1
    return made


def directory_demo_load() -> DirectoryDemoResult:
    """Load the illustrative directory (as the demo administrator) and the demo referrals (as
    the demo's Honduran reception officer)."""
    editor = User.objects.filter(username=DIRECTORY_EDITOR).first()
    if editor is None:
        return DirectoryDemoResult(0, 0, 0)
    providers, services = _load_providers(editor)
    officer = User.objects.filter(username=REFERRING_OFFICER).first()
    referrals = _demo_referrals(officer) if officer is not None else 0
    return DirectoryDemoResult(providers=providers, services=services, referrals=referrals)
