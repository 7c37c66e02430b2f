"""validate_name: the rules every name and pen portrait must meet."""

from __future__ import annotations

import pytest

from resources.namers import validate_name

GOOD_TEXT = (
    "These neighbourhoods house far more full-time students than the regional average. "
    "People aged 85 and over are much rarer, and residents aged 65 to 84 are fewer too."
)


def test_good_name_and_portrait_pass():
    assert validate_name("Student Cosmopolitan Flats", GOOD_TEXT, ["Suburban Family Homeowners"]) == []


@pytest.mark.parametrize(
    "name, expected",
    [
        ("", "name is empty"),
        ("   ", "name is empty"),
        ("Young Student Cosmopolitan Flats", "4 words"),
        ("Cluster 4 Flats", "contains digits"),
        ("suburban family homeowners", "already used"),
    ],
)
def test_bad_names_are_reported(name, expected):
    problems = validate_name(name, GOOD_TEXT, ["Suburban Family Homeowners"])
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "description, expected",
    [
        ("", "description is empty"),
        ("word " * 501, "501 words"),
        ("Residents in communal establishments score 527.8 against the region.", "527.8"),
        ("An index of 204 for communal living.", "204"),
        ("Students are 47% more common here.", "47%"),
        ("Far more students, with a score of 95 on qualifications.", "95"),
        ("Everything above 120 is mentioned here.", "120"),
        ("We see far more students here than elsewhere.", "third person"),
        ("If you walk these streets, flats dominate.", "third person"),
    ],
)
def test_bad_portraits_are_reported(description, expected):
    problems = validate_name("Student Flats", description, [])
    assert any(expected in p for p in problems), problems


def test_ages_are_not_mistaken_for_scores():
    assert validate_name("Elderly Flats", "Far more people aged 85 and over, and aged 65 to 84.", []) == []
