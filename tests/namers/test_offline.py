"""OfflineNamer: readable, unique, deterministic names; portraits of strong contrasts only."""

from __future__ import annotations

import dataclasses
import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resources.namers import OfflineNamer, validate_name
from resources.namers.name_builder import contrast
from resources.namers.vocabulary import describe, known_variables
from tests.namers.conftest import REGION, liverpool_scores, make_profile


def _mentions(description: str, variable: str) -> str | None:
    """The comparative used before the variable's phrase ("more", "fewer", ...), if mentioned."""
    found = re.search(r"\b(more|fewer|higher|lower) " + re.escape(describe(variable).phrase), description)
    return found.group(1) if found else None


def test_liverpool_names_read_like_a_commercial_classification(liverpool_profiles):
    names = {n.code: n.name for n in OfflineNamer().name_clusters(liverpool_profiles, REGION).names}
    assert names == {
        "A": "Elderly Communal Flats",
        "B": "Multicultural Urban Flats",
        # C's occupations and qualifications all score within 80..120: nothing backs "Working".
        "C": "Urban Terraces",
        "D": "Student Cosmopolitan Flats",
        "E": "Comfortable Suburban Homeowners",
    }


def test_liverpool_names_pass_every_rule(liverpool_profiles):
    report = OfflineNamer().name_clusters(liverpool_profiles, REGION)
    for named in report.names:
        others = [n.name for n in report.names if n.code != named.code]
        assert validate_name(named.name, named.description, others) == []
        assert named.source == "offline" and named.model is None and named.fallback_reason is None
    assert (report.api_calls, report.cache_hits, report.fallbacks) == (0, 0, [])


def test_portraits_mention_exactly_the_strong_contrasts_in_the_right_direction(liverpool_profiles):
    for named, profile in zip(
        OfflineNamer().name_clusters(liverpool_profiles, REGION).names, liverpool_profiles
    ):
        for variable, score in profile.index_scores.items():
            said = _mentions(named.description, variable)
            if score > 120:
                assert said in ("more", "higher"), (named.code, variable, score, said)
            elif score < 80:
                assert said in ("fewer", "lower"), (named.code, variable, score, said)
            else:
                assert describe(variable).phrase not in named.description, (named.code, variable, score)
        assert "regional average" in named.description and "Liverpool City Region" in named.description
        assert not re.search(r"\d", named.description), named.description
        assert len(re.findall(r"[.!?](?:\s|$)", named.description)) >= 3


def test_offline_names_do_not_depend_on_input_order(liverpool_profiles):
    first = OfflineNamer().name_clusters(liverpool_profiles, REGION).names
    shuffled = liverpool_profiles[:]
    random.Random(4).shuffle(shuffled)
    assert OfflineNamer().name_clusters(shuffled, REGION).names == first


def test_identical_profiles_get_distinct_readable_names():
    scores = liverpool_scores()["D"]
    profiles = [make_profile(code, scores) for code in "ABCDEF"]
    names = [n.name for n in OfflineNamer().name_clusters(profiles, REGION).names]
    assert len({n.casefold() for n in names}) == len(names), names
    assert names[0] == "Student Cosmopolitan Flats"
    for name in names:
        assert 1 <= len(name.split()) <= 3 and not re.search(r"\d", name), name


def test_subgroups_are_described_against_their_supergroup_and_named_uniquely(liverpool_profiles):
    scores = liverpool_scores()
    subgroups = [
        make_profile("D1", {v: 100 + (s - 100) * 0.5 for v, s in scores["D"].items()}, parent="D"),
        make_profile("D2", {v: 100 - (s - 100) * 0.3 for v, s in scores["D"].items()}, parent="D"),
        make_profile("E1", scores["E"], parent="E"),
    ]
    report = OfflineNamer().name_clusters(subgroups + liverpool_profiles, REGION)
    assert [n.code for n in report.names] == ["A", "B", "C", "D", "E", "D1", "D2", "E1"]
    by_code = {n.code: n for n in report.names}
    assert len({n.name for n in report.names}) == 8
    for code in ("D1", "D2", "E1"):
        text = by_code[code].description
        assert f"the {by_code[code[0]].name} supergroup" in text and "supergroup average" in text
        assert "regional average" not in text
    assert by_code["E1"].name != by_code["E"].name


def test_a_cluster_without_strong_contrasts_says_so():
    profile = make_profile("A", {v: 100.0 + (i % 7) for i, v in enumerate(known_variables())})
    named = OfflineNamer().name_clusters([profile], REGION).names[0]
    assert "close to the Liverpool City Region average on every characteristic" in named.description
    assert validate_name(named.name, named.description, []) == []


def test_unknown_variables_get_plain_phrases_and_domain_words():
    profile = make_profile("A", {"Ethnic group: Roma": 310.0, "Social rented": 150.0})
    profile = dataclasses.replace(profile, domains={"Ethnic group: Roma": "Ethnicity and Origins"})
    named = OfflineNamer().name_clusters([profile], REGION).names[0]
    assert named.name == "Diverse Social Renters"
    assert "far more residents recorded as 'roma'" in named.description


def test_portrait_of_an_extreme_cluster_is_cut_to_the_word_limit():
    scores = {v: (400.0 if i % 2 else 25.0) - i for i, v in enumerate(known_variables())}
    named = OfflineNamer().name_clusters([make_profile("A", scores)], REGION).names[0]
    assert len(named.description.split()) <= 500
    strongest = max(scores, key=lambda v: contrast(scores[v]))
    assert describe(strongest).phrase in named.description


_score = st.floats(min_value=5.0, max_value=600.0, allow_nan=False)
_scores = st.dictionaries(st.sampled_from(known_variables()), _score, min_size=1, max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_scores, min_size=1, max_size=9))
def test_any_region_gets_unique_valid_names(score_sets):
    profiles = [make_profile(chr(ord("A") + i), scores) for i, scores in enumerate(score_sets)]
    names = OfflineNamer().name_clusters(profiles, "Test Region").names
    for named in names:
        others = [n.name for n in names if n.code != named.code]
        assert validate_name(named.name, named.description, others) == [], (named.name, named.description)


def test_depth_three_groups_and_subgroups_are_named_against_their_parent():
    from tests.namers.conftest import REGION, liverpool_scores, make_profile

    scores = liverpool_scores()
    sharper = {v: 100 + (s - 100) * 1.5 for v, s in scores["B"].items()}
    profiles = [
        make_profile("A", scores["A"]),
        make_profile("A1", scores["B"], parent="A", level="group"),
        make_profile("A1a", sharper, parent="A1", level="subgroup", parent_level="group"),
    ]
    report = OfflineNamer().name_clusters(profiles, REGION)
    by_code = {n.code: n for n in report.names}
    assert len({n.name for n in report.names}) == 3
    assert "supergroup" in by_code["A1"].description and "the group average" in by_code["A1a"].description
    for n in report.names:
        assert validate_name(n.name, n.description, []) == [], n
