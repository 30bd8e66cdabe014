"""On PostgreSQL, a query the application asks again and again is planned once per connection:
its parameters travel apart from its text (server-side binding) and psycopg prepares it once it
has run PREPARE_THRESHOLD times. MIRADOR_DATABASE_PREPARED_STATEMENTS=false turns preparing
off (for a connection pooler that cannot keep prepared statements)."""

from __future__ import annotations

import pytest
from django.db import connection

from mirador import config
from mirador.core.models import Country

pytestmark = pytest.mark.django_db

# A text no other query has, so that no earlier test has prepared it on this connection.
MARKER = "prepared statement test"
QUERY = "SELECT alpha3 /* prepared statement test */ FROM core_country WHERE alpha2 = %s"


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_query_asked_repeatedly_is_prepared_once_with_its_parameters_apart() -> None:
    codes = ["HN", "GT", "SV", "MX", "NI", "CR", "PA", "BZ"]

    def alpha3(code: str) -> str:
        # Through the cursor every query of the ORM goes through.
        with connection.cursor() as cursor:
            cursor.execute(QUERY, [code])
            return str(cursor.fetchone()[0])

    for code in codes[: config.PREPARE_THRESHOLD - 1]:
        alpha3(code)
    assert not [text for text in _prepared_statements() if MARKER in text]

    expected = dict(Country.objects.values_list("pk", "alpha3"))
    for code in codes[config.PREPARE_THRESHOLD - 1 :]:
        assert alpha3(code) == expected[code]
    prepared = [text for text in _prepared_statements() if MARKER in text]
    # One statement for every code: the code is a parameter, not part of the text.
    assert len(prepared) == 1
    assert "$1" in prepared[0]
    assert not any(f"'{code}'" in prepared[0] for code in codes)


def test_preparing_can_be_turned_off_for_a_pooler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIRADOR_DATABASE_PREPARED_STATEMENTS", raising=False)
    assert config.postgresql_options() == {
        "server_side_binding": True,
        "prepare_threshold": config.PREPARE_THRESHOLD,
    }
    monkeypatch.setenv("MIRADOR_DATABASE_PREPARED_STATEMENTS", "false")
    assert config.postgresql_options() == {"server_side_binding": True, "prepare_threshold": None}
