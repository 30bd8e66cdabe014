"""How a person's name is written in lists."""

from mirador.people.models import Person


def test_a_person_without_second_surname_is_listed_without_a_stray_space() -> None:
    assert Person(given_names="Carlos", first_surname="Zelaya").sorting_name == "Zelaya, Carlos"


def test_a_person_with_two_surnames_is_listed_surnames_first() -> None:
    person = Person(given_names="María José", first_surname="Zelaya", second_surname="Paz")
    assert person.sorting_name == "Zelaya Paz, María José"
