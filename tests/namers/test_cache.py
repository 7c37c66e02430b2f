"""NameCache: keys that change exactly when the request would, and a file shared safely."""

from __future__ import annotations

import dataclasses
import logging

from resources.namers import PROMPT_VERSION, NameCache
from resources.namers.cache import cache_key
from tests.namers.conftest import REGION, liverpool_scores, make_profile

ENTRY = {
    "name": "Student Cosmopolitan Flats",
    "description": "Far more students.",
    "model": "m",
    "prompt_version": "p",
}


def _key(profile, region=REGION, parent_name=None, model="gpt-5-mini", version=PROMPT_VERSION):
    return cache_key(profile, region, parent_name, model, version)


def test_key_ignores_score_noise_and_order_but_not_real_changes():
    scores = liverpool_scores()["D"]
    profile = make_profile("D", scores)
    base = _key(profile)
    reordered = make_profile("D", dict(reversed(list(scores.items()))))
    jittered = make_profile("D", {v: s + 0.01 for v, s in scores.items()})
    assert _key(reordered) == base and _key(jittered) == base
    changed = make_profile("D", {**scores, "Social rented": scores["Social rented"] + 1})
    different = {
        _key(changed),
        _key(make_profile("E", scores)),
        _key(make_profile("D1", scores, parent="D")),
        _key(profile, model="gpt-5"),
        _key(profile, version=PROMPT_VERSION + "-next"),
        _key(profile, region="Greater Manchester"),
        _key(dataclasses.replace(profile, level="subgroup", parent="X"), parent_name="Other Name"),
    }
    assert base not in different and len(different) == 7


def test_entries_survive_a_new_cache_object(tmp_path):
    NameCache(tmp_path / "cache" / "names.json").put("k1", ENTRY)
    assert NameCache(tmp_path / "cache" / "names.json").get("k1") == ENTRY
    assert NameCache(tmp_path / "cache" / "names.json").get("k2") is None


def test_two_writers_on_one_file_keep_both_entries(tmp_path):
    first, second = NameCache(tmp_path / "names.json"), NameCache(tmp_path / "names.json")
    assert first.get("a") is None and second.get("b") is None  # both hold a snapshot now
    first.put("a", ENTRY)
    second.put("b", ENTRY)
    fresh = NameCache(tmp_path / "names.json")
    assert fresh.get("a") == ENTRY and fresh.get("b") == ENTRY


def test_a_damaged_cache_is_ignored_with_a_warning_and_rewritten(tmp_path, caplog):
    path = tmp_path / "names.json"
    path.write_text("{not json")
    cache = NameCache(path)
    with caplog.at_level(logging.WARNING):
        assert cache.get("a") is None
    assert str(path) in caplog.text
    cache.put("a", ENTRY)
    assert NameCache(path).get("a") == ENTRY
