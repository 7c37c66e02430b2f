"""Names without an API key: the chat prompts hold every cluster's scores and the rules; pasted answers
are read as chat LLMs write them and checked like the API's answers (issue 17 §1)."""

from __future__ import annotations

import json

import pytest

from resources.namers.chat_answer import AnswerError, read_answer
from resources.namers.chat_prompt import chat_prompts
from resources.namers.prompt import INSTRUCTIONS, RULES
from tests.namers.conftest import REGION, liverpool_scores, make_profile

LEVELS = {**dict.fromkeys("ABC", "supergroup"), **dict.fromkeys(["A1", "A2", "B1", "B2", "C1"], "subgroup")}

PORTRAIT = "Its neighbourhoods have far more flats than the regional average, and fewer families."


@pytest.fixture
def profiles():
    scores = liverpool_scores()
    sups = [make_profile(code, scores[code]) for code in "ABCDE"]
    subs = [
        make_profile(
            f"{code}{i}", {v: 100 + (s - 100) * (0.3 * i) for v, s in scores[code].items()}, parent=code
        )
        for code in "AD"
        for i in (1, 2)
    ]
    return sups + subs


def test_region_prompt_holds_every_supergroup_score_and_the_rules(profiles):
    prompts = chat_prompts(
        profiles, REGION, {"A": "Elderly Communal Flats", "D": "Student Cosmopolitan Flats"}
    )
    assert sorted(prompts) == ["names_prompt.txt", "names_prompt_A.txt", "names_prompt_D.txt"]
    text = prompts["names_prompt.txt"]
    for profile in profiles[:5]:
        block = text.split(f"Cluster {profile.code} (supergroup")[1].split("\nCluster ")[0]
        for variable, score in profile.index_scores.items():
            assert f"- {variable}: {round(score, 1)}" in block, (profile.code, variable)
    assert "A1" not in text and "Index scores relative to: the average of Liverpool City Region" in text
    # The same rules as the API path, word for word.
    assert RULES in text and RULES in INSTRUCTIONS
    for rule in (
        "third person",
        "at most 500 words",
        "above 120 or below 80",
        "Never quote index",
        "at most 3 words",
    ):
        assert rule in text, rule
    assert '{"A": {"name": "", "description": ""}, "B": {"name": "", "description": ""}' in text
    assert '"E": {"name": "", "description": ""}}' in text


def test_subgroup_prompt_is_relative_to_its_supergroup_and_lists_supergroup_names_as_taken(profiles):
    text = chat_prompts(profiles, REGION, {"A": "Elderly Communal Flats", "D": "Student Cosmopolitan Flats"})[
        "names_prompt_A.txt"
    ]
    assert "the 2 subgroups of supergroup A" in text
    assert (
        "relative to: the average of supergroup A (Elderly Communal Flats) within Liverpool City Region"
        in text
    )
    assert '"Elderly Communal Flats", "Student Cosmopolitan Flats"' in text
    assert "Cluster A1 (subgroup" in text and "Cluster A2 (subgroup" in text and "Cluster D1" not in text
    a2 = next(p for p in profiles if p.code == "A2")
    for variable, score in a2.index_scores.items():
        assert f"- {variable}: {round(score, 1)}" in text.split("Cluster A2 (subgroup")[1]


def _answer(codes, **names) -> dict:
    return {
        c: {"name": names.get(c, f"Name {chr(65 + i)} Flats"), "description": PORTRAIT}
        for i, c in enumerate(codes)
    }


SUPERGROUPS = _answer("ABC", A="Elderly Communal Flats", B="Urban Terraces", C="Student Flats")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(SUPERGROUPS),
        "Here are the names you asked for:\n\n```json\n"
        + json.dumps(SUPERGROUPS, indent=2)
        + "\n```\n\nLet me know!",
        "Sure! " + json.dumps(SUPERGROUPS) + " I hope these help.",
        "```\n" + json.dumps({f"Cluster {k}": v for k, v in SUPERGROUPS.items()}) + "\n```",
        json.dumps(
            {
                f"Supergroup {k}": {"Name": v["name"], "Description": v["description"]}
                for k, v in SUPERGROUPS.items()
            }
        ),
    ],
    ids=["bare", "fenced-with-prose", "prose-around", "cluster-keys", "supergroup-keys-capitalised"],
)
def test_supergroup_answers_in_the_shapes_chat_llms_write_are_read(text):
    assert read_answer(text, LEVELS) == SUPERGROUPS


@pytest.mark.parametrize("prefix", ["", "Subgroup ", "Cluster "])
def test_subgroup_answers_are_read_with_or_without_a_prefix(prefix):
    answer = {f"{prefix}A1": SUPERGROUPS["A"], f"{prefix}A2": SUPERGROUPS["B"]}
    text = "Here you go:\n```json\n" + json.dumps(answer) + "\n```"
    got = read_answer(text, LEVELS, {"A": "Retired Homeowners", "B": "Urban Flats"})
    assert got == {"A1": SUPERGROUPS["A"], "A2": SUPERGROUPS["B"]}


def test_a_broken_answer_is_refused_naming_every_problem():
    answer = {
        "A": {"name": "Very Old Communal Flats", "description": PORTRAIT},
        "B": {"name": "Urban Terraces", "description": "It has social renting at index 135, far above."},
        "D": {"name": "Student Flats", "description": PORTRAIT},
    }
    with pytest.raises(AnswerError) as raised:
        read_answer(json.dumps(answer), LEVELS)
    problems = raised.value.problems
    assert any(p.startswith("A: ") and "4 words" in p for p in problems), problems
    assert any(p.startswith("B: ") and "135" in p for p in problems), problems
    assert any(p.startswith("C: ") and "missing" in p for p in problems), problems
    assert any(p.startswith("D") and "not a cluster" in p for p in problems), problems


def test_duplicate_names_are_refused_for_each_cluster_that_uses_them():
    answer = _answer("ABC", A="Urban Terraces", B="urban terraces", C="Student Flats")
    with pytest.raises(AnswerError) as raised:
        read_answer(json.dumps(answer), LEVELS)
    assert sorted(p.split(":")[0] for p in raised.value.problems) == ["A", "B"]
    assert all("already used" in p for p in raised.value.problems)


def test_a_name_taken_by_a_cluster_outside_the_answer_is_refused():
    answer = {"A1": SUPERGROUPS["A"], "A2": {"name": "Urban Flats", "description": PORTRAIT}}
    with pytest.raises(AnswerError, match="A2: name 'Urban Flats' is already used"):
        read_answer(json.dumps(answer), LEVELS, {"B": "Urban Flats"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("I cannot help with that.", "no JSON object"),
        (json.dumps({"A": "Flats"}), "A: expected"),
        (json.dumps({"A1": {"name": "Flats", "description": PORTRAIT, "score": 1}}), "unknown field"),
        (
            json.dumps({"A1": {"name": "Flats"}, "A2": {"name": "Homes", "description": PORTRAIT}}),
            "A1: missing description",
        ),
    ],
)
def test_answers_that_break_the_schema_say_what_is_wrong(text, message):
    with pytest.raises(AnswerError) as raised:
        read_answer(text, LEVELS)
    assert any(message in p for p in raised.value.problems), raised.value.problems


DEPTH3 = {
    "A": "supergroup",
    "B": "supergroup",
    "A1": "group",
    "A2": "group",
    "A1a": "subgroup",
    "A1b": "subgroup",
    "A2a": "subgroup",
}


@pytest.mark.parametrize("prefix", ["", "Subgroup ", "cluster "])
def test_depth_three_subgroup_answers_keep_their_lower_case_letter(prefix):
    answer = {f"{prefix}a1A": SUPERGROUPS["A"], f"{prefix}A1b": SUPERGROUPS["B"]}
    got = read_answer(json.dumps(answer), DEPTH3, {"A": "Retired Homeowners", "A1": "Urban Flats"})
    assert got == {"A1a": SUPERGROUPS["A"], "A1b": SUPERGROUPS["B"]}
    with pytest.raises(AnswerError, match="A1b: missing from the answer"):
        read_answer(json.dumps({"A1a": SUPERGROUPS["A"]}), DEPTH3)
    # A group's answer must hold every group of its supergroup, and no subgroup is expected with it.
    with pytest.raises(AnswerError, match="A2: missing") as raised:
        read_answer(json.dumps({"Group A1": SUPERGROUPS["A"]}), DEPTH3)
    assert not any("A1a" in p for p in raised.value.problems)


def test_depth_three_prompts_name_groups_against_the_supergroup_and_subgroups_against_the_group():
    scores = liverpool_scores()["A"]
    profiles = [
        make_profile("A", scores),
        *(make_profile(g, scores, parent="A", level="group") for g in ("A1", "A2")),
        *(
            make_profile(s, scores, parent="A1", level="subgroup", parent_level="group")
            for s in ("A1a", "A1b")
        ),
    ]
    prompts = chat_prompts(profiles, REGION, {"A": "Old Town", "A1": "Old Terraces"})
    assert sorted(prompts) == ["names_prompt.txt", "names_prompt_A.txt", "names_prompt_A1.txt"]
    assert "the 2 groups of supergroup A" in prompts["names_prompt_A.txt"]
    subgroups = prompts["names_prompt_A1.txt"]
    assert "the 2 subgroups of group A1" in subgroups and "group A1 (Old Terraces)" in subgroups
    assert '"Old Terraces", "Old Town"' in subgroups  # the names above are taken
