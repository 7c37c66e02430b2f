"""OpenAINamer against a local Responses API server: requests, answers, retries, fallbacks, secrecy."""

from __future__ import annotations

import json
import logging
import traceback

import pytest

from resources.namers import NameCache, OfflineNamer
from resources.namers.openai_namer import ApiFailure
from tests.namers.conftest import REGION, SECRET_KEY, liverpool_scores, make_profile
from tests.namers.responses_server import Reply, answer

PORTRAIT = (
    "These neighbourhoods are home to far more full-time students than the regional average. "
    "Flats dominate, and families with children are much rarer than elsewhere in the region."
)
GOOD = {
    code: answer(name, PORTRAIT)
    for code, name in zip(
        "ABCDE",
        [
            "Established Professional Residents",
            "Multicultural Urban Families",
            "Working Family Terraces",
            "Student Cosmopolitan Flats",
            "Suburban Family Homeowners",
        ],
    )
}


def _offline_names(profiles) -> dict[str, str]:
    return {n.code: n.name for n in OfflineNamer().name_clusters(profiles, REGION).names}


def test_request_carries_model_strict_schema_and_scores_by_variable_name(
    server, make_namer, liverpool_profiles
):
    server.script = [GOOD[c] for c in "ABCDE"]
    make_namer(model="gpt-5-mini").name_clusters(liverpool_profiles, REGION)
    headers, body = server.requests[0]
    assert headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert body["model"] == "gpt-5-mini"
    text_format = body["text"]["format"]
    assert text_format["type"] == "json_schema" and text_format["strict"] is True
    schema = text_format["schema"]
    assert schema["required"] == ["name", "description"] and schema["additionalProperties"] is False
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "name": "string",
        "description": "string",
    }
    for variable, score in liverpool_scores()["A"].items():
        assert f"{variable}: {score}" in body["input"]
    assert "120" in body["instructions"] and "80" in body["instructions"]
    assert "Liverpool City Region" in body["input"]


def test_good_answers_become_the_names_and_usage_is_summed(server, make_namer, liverpool_profiles):
    server.script = [GOOD[c] for c in "ABCDE"]
    report = make_namer().name_clusters(liverpool_profiles, REGION)
    assert [(n.code, n.name) for n in report.names] == [
        (c, json.loads(GOOD[c].text)["name"]) for c in "ABCDE"
    ]
    assert all(
        n.source == "openai" and n.model == "gpt-5-mini" and n.description == PORTRAIT for n in report.names
    )
    assert (report.api_calls, report.cache_hits, report.fallbacks) == (5, 0, [])
    # The server's usage for request n is 1000 + n input and 200 + n output tokens.
    assert (report.input_tokens, report.output_tokens) == (5000 + 15, 1000 + 15)


def test_names_already_taken_are_sent_with_later_requests(server, make_namer, liverpool_profiles):
    server.script = [GOOD[c] for c in "ABCDE"]
    make_namer().name_clusters(liverpool_profiles, REGION)
    assert "Established Professional Residents" in server.bodies()[1]["input"]


@pytest.mark.parametrize(
    "bad, problem",
    [
        (Reply("answer", '{"name": "Student Flats", "description": '), "not valid JSON"),
        (answer("Young Student Cosmopolitan Flats", PORTRAIT), "4 words"),
        (answer("Student Flats", ""), "description is empty"),
        (Reply("answer", '{"name": "Student Flats"}'), "does not match the schema"),
        (answer("Student Flats", "Communal living has an index of 527.8 here."), "527.8"),
    ],
)
def test_a_bad_answer_is_retried_once_with_the_problem_stated(server, make_namer, bad, problem):
    profile = make_profile("D", liverpool_scores()["D"])
    server.script = [bad, GOOD["D"]]
    report = make_namer().name_clusters([profile], REGION)
    assert report.names[0].name == "Student Cosmopolitan Flats" and report.names[0].source == "openai"
    assert report.api_calls == 2 and report.fallbacks == []
    retry_input = server.bodies()[1]["input"]
    assert "previous answer was rejected" in retry_input and problem in retry_input


@pytest.mark.parametrize(
    "bad, problem",
    [
        (Reply("answer", "Student Cosmopolitan Flats"), "not valid JSON"),
        (answer("Young Student Cosmopolitan Flats", PORTRAIT), "4 words"),
    ],
)
def test_a_second_bad_answer_falls_back_to_the_offline_name(
    server, make_namer, liverpool_profiles, bad, problem
):
    server.script = [GOOD["A"], GOOD["B"], GOOD["C"], bad, bad, GOOD["E"]]
    report = make_namer().name_clusters(liverpool_profiles, REGION)
    d = report.names[3]
    assert d.code == "D" and d.source == "offline" and d.name == _offline_names(liverpool_profiles)["D"]
    assert problem in d.fallback_reason and d.description
    assert report.fallbacks == [f"D: {d.fallback_reason}"]
    assert report.names[4].source == "openai" and report.api_calls == 6


def test_a_duplicate_name_is_rejected_and_retried(server, make_namer, liverpool_profiles):
    server.script = [GOOD["A"], GOOD["A"], GOOD["B"], GOOD["C"], GOOD["D"], GOOD["E"]]
    report = make_namer().name_clusters(liverpool_profiles, REGION)
    assert [n.name for n in report.names][:2] == [
        "Established Professional Residents",
        "Multicultural Urban Families",
    ]
    assert "already used" in server.bodies()[2]["input"]


def test_a_fallback_name_never_repeats_a_model_name(server, make_namer):
    profiles = [make_profile("A", liverpool_scores()["D"]), make_profile("B", liverpool_scores()["D"])]
    offline_first = _offline_names(profiles[:1])["A"]
    server.script = [
        answer(offline_first, PORTRAIT),
        Reply("status", status=400),
        Reply("status", status=400),
    ]
    report = make_namer().name_clusters(profiles, REGION)
    assert report.names[0].name == offline_first and report.names[1].source == "offline"
    assert report.names[1].name != offline_first


def test_rate_limit_then_success_is_retried(server, make_namer):
    server.script = [Reply("status", status=429, headers={"retry-after-ms": "5"}), GOOD["D"]]
    report = make_namer().name_clusters([make_profile("D", liverpool_scores()["D"])], REGION)
    assert report.names[0].source == "openai" and report.api_calls == 2 and report.fallbacks == []


def test_connection_reset_then_success_is_retried(server, make_namer):
    server.script = [Reply("reset"), Reply("reset"), GOOD["D"]]
    report = make_namer(max_retries=2).name_clusters([make_profile("D", liverpool_scores()["D"])], REGION)
    assert report.names[0].source == "openai" and report.api_calls == 3


def test_timeout_then_success_is_retried(server, make_namer):
    server.script = [Reply("slow", GOOD["D"].text, delay=1.5), GOOD["D"]]
    report = make_namer(timeout=0.3).name_clusters([make_profile("D", liverpool_scores()["D"])], REGION)
    assert report.names[0].source == "openai" and report.api_calls == 2


def test_persistent_server_errors_fall_back_without_failing_the_region(
    server, make_namer, liverpool_profiles
):
    server.script = lambda body: Reply("status", status=503)
    report = make_namer(max_retries=3).name_clusters(liverpool_profiles, REGION)
    assert [n.name for n in report.names] == list(_offline_names(liverpool_profiles).values())
    assert all(n.source == "offline" for n in report.names) and len(report.fallbacks) == 5
    # Two clusters in a row without an answer: the API is taken to be down for the other three.
    reasons = [n.fallback_reason for n in report.names]
    assert reasons[:2] == ["HTTP 503 on all 4 attempts"] * 2
    assert (
        reasons[2:]
        == [
            "the API gave no answer for 2 clusters in a row (last: HTTP 503 on all 4 attempts), "
            "so it was not asked for the rest of the region"
        ]
        * 3
    )
    assert report.api_calls == 2 * 4


def test_an_answer_between_failed_clusters_keeps_the_api_in_use(server, make_namer, liverpool_profiles):
    failing = [Reply("status", status=502)] * 2
    server.script = failing + [GOOD["B"]] + failing + [GOOD["D"], GOOD["E"]]
    report = make_namer(max_retries=1).name_clusters(liverpool_profiles, REGION)
    assert [n.source for n in report.names] == ["offline", "openai", "offline", "openai", "openai"]
    assert report.api_calls == 7 and len(report.fallbacks) == 2


def test_persistent_connection_resets_fall_back(server, make_namer):
    server.script = lambda body: Reply("reset")
    report = make_namer(max_retries=1).name_clusters([make_profile("D", liverpool_scores()["D"])], REGION)
    assert report.names[0].source == "offline" and "connection" in report.names[0].fallback_reason
    assert report.api_calls == 2


def test_a_rejected_key_stops_further_requests(server, make_namer, liverpool_profiles):
    server.script = lambda body: Reply(
        "status", status=401, error_message=f"Incorrect API key provided: {SECRET_KEY}"
    )
    report = make_namer().name_clusters(liverpool_profiles, REGION)
    assert report.api_calls == 1
    assert all(n.source == "offline" and "401" in n.fallback_reason for n in report.names)


def test_the_key_never_leaks_into_logs_reports_reprs_or_errors(
    server, make_namer, liverpool_profiles, caplog
):
    caplog.set_level(logging.DEBUG)
    echo = f"Incorrect API key provided: {SECRET_KEY}"
    server.script = [
        Reply("status", status=401, error_message=echo),
    ]
    namer = make_namer()
    report = namer.name_clusters(liverpool_profiles, REGION)
    server.script = [Reply("status", status=500, error_message=echo)] * 3 + [
        Reply("answer", f'"{SECRET_KEY}"')
    ] * 2
    report2 = make_namer().name_clusters(liverpool_profiles[:2], REGION)
    assert len(server.requests) == 6, "every scripted reply was used"
    with pytest.raises(ApiFailure) as raised:
        server.script = [Reply("status", status=403, error_message=echo)]
        namer._create("hello", report)
    shown = "".join(traceback.format_exception(raised.value))
    for text in (caplog.text, repr(report), repr(report2), repr(namer), str(namer), shown, str(vars(namer))):
        assert SECRET_KEY not in text
    assert "HTTP 401" in caplog.text and "HTTP 500" in caplog.text


def test_cache_prevents_a_second_call(server, make_namer, liverpool_profiles, tmp_path):
    cache = NameCache(tmp_path / "names.json")
    server.script = [GOOD[c] for c in "ABCDE"]
    first = make_namer(cache=cache).name_clusters(liverpool_profiles, REGION)
    again = make_namer(cache=NameCache(tmp_path / "names.json")).name_clusters(liverpool_profiles, REGION)
    assert (again.api_calls, again.cache_hits, again.input_tokens) == (0, 5, 0)
    assert again.names == first.names and len(server.requests) == 5
    assert SECRET_KEY not in (tmp_path / "names.json").read_text()


def test_changed_profile_or_model_misses_the_cache(server, make_namer, liverpool_profiles, tmp_path):
    cache = NameCache(tmp_path / "names.json")
    server.script = [GOOD[c] for c in "ABCDE"]
    make_namer(cache=cache).name_clusters(liverpool_profiles, REGION)
    changed = liverpool_profiles[:4] + [make_profile("E", {**liverpool_scores()["E"], "Social rented": 45.0})]
    server.script = [GOOD["E"]]
    report = make_namer(cache=cache).name_clusters(changed, REGION)
    assert (report.api_calls, report.cache_hits) == (1, 4)
    server.script = [GOOD["D"]]
    other_model = make_namer(cache=cache, model="gpt-5").name_clusters(liverpool_profiles[3:4], REGION)
    assert other_model.api_calls == 1 and server.bodies()[-1]["model"] == "gpt-5"


def test_fallback_names_are_not_cached(server, make_namer, tmp_path):
    cache = NameCache(tmp_path / "names.json")
    profile = make_profile("D", liverpool_scores()["D"])
    server.script = lambda body: Reply("status", status=500)
    assert (
        make_namer(cache=cache, max_retries=0).name_clusters([profile], REGION).names[0].source == "offline"
    )
    server.script = [GOOD["D"]]
    report = make_namer(cache=cache).name_clusters([profile], REGION)
    assert report.names[0].source == "openai" and report.api_calls == 1
