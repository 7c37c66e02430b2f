"""The OpenAI endpoint failing mid-region: the region still materialises, with offline names where the model failed, said so by the check."""

from __future__ import annotations

import itertools
import json
import logging
import re

import pandas as pd

from resources.namers.openai_namer import OUTAGE_AFTER_CLUSTERS
from resources.namers.resource import namer_resource_from_env
from sample_data.census import write_sample_census
from tests.namers.responses_server import Reply, ResponsesServer, answer
from tests.pipelines.harness import make_defs, make_resources, run
from tests.reliability.test_secrets import REGION, SMALL_RUN, leaks

KEY = "sk-test-OUTAGE-41c9e07b2d6a"
# Clusters are named supergroups first, then subgroups, each by code.
ORDER = ["A", "B", "C", "A1", "A2", "B1", "B2", "C1", "C2"]
ANSWERED = ORDER[:5]  # then one connection reset, then nothing but HTTP 500
FAILED = ORDER[5:]
ATTEMPTS = 5  # ClusterNamerResource's default: 4 retries
TRIED = FAILED[:OUTAGE_AFTER_CLUSTERS]  # after these the API is taken to be down: the rest are not asked
NOT_ASKED = FAILED[OUTAGE_AFTER_CLUSTERS:]
WORDS = {"A": "Amber", "B": "Birch", "C": "Cedar", "1": "Upper", "2": "Lower"}
PORTRAIT = "Residents here more often rent and work in services than across the region as a whole."


def asked_for(body: dict) -> str:
    """The cluster code a Responses API request is about."""
    return re.search(r"^Cluster: \w+ (\w+)$", body["input"], re.MULTILINE).group(1)


def outage_script():
    """Answers for the first clusters, then a reset connection, then 500s whose text echoes the key, as real APIs may."""
    count = itertools.count()

    def reply(body: dict) -> Reply:
        n = next(count)
        if n < len(ANSWERED):
            code = asked_for(body)
            return answer(" ".join(WORDS[c] for c in code) + " Streets", PORTRAIT)
        if n == len(ANSWERED):
            return Reply("reset")
        return Reply("status", status=500, error_message=f"internal error while serving key {KEY}")

    return reply


def test_api_failing_mid_region_falls_back_per_cluster_and_the_check_lists_them(
    tmp_path, instance, monkeypatch, caplog, capfd
):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], seed=1, scale=0.05)
    with ResponsesServer() as server:
        server.script = outage_script()
        # Configured as in production: the key and endpoint from the environment only.
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("GEODEM_OUTPUT_DIR", str(tmp_path / "out"))
        resources = make_resources(tmp_path, census_dir=census, namer=namer_resource_from_env())
        defs = make_defs(resources)
        assert run(defs, "census_release_job", instance).success
        result = run(defs, "geodem_region_job", instance, REGION, SMALL_RUN)
        asked = [asked_for(body) for body in server.bodies()]
        auth = {h.get("Authorization") or h.get("authorization") for h, _ in server.requests}

    # The API was really used, with the key from the environment, and failed as scripted.
    assert auth == {f"Bearer {KEY}"}
    assert NOT_ASKED, "the region must have clusters left after the API is given up"
    assert asked == ANSWERED + [code for code in TRIED for _ in range(ATTEMPTS)]

    # The region materialised all the same.
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    for node in ("cluster_names", "classification_exports"):
        assert result.asset_materializations_for_node(node), f"{node} did not materialise"
    names = resources["warehouse"].read("cluster_names", "region", REGION).set_index("cluster")
    assert sorted(names.index) == sorted(ORDER)
    assert (
        set(names.loc[ANSWERED, "source"]) == {"openai"}
        and names.loc[ANSWERED, "fallback_reason"].isna().all()
    )
    assert set(names.loc[FAILED, "source"]) == {"offline"}
    reason = f"HTTP 500 on all {ATTEMPTS} attempts"
    down = (
        f"the API gave no answer for {OUTAGE_AFTER_CLUSTERS} clusters in a row (last: {reason}), "
        "so it was not asked for the rest of the region"
    )
    reasons = {**{code: reason for code in TRIED}, **{code: down for code in NOT_ASKED}}
    assert names.loc[FAILED, "fallback_reason"].to_dict() == reasons
    assert names["name"].is_unique
    exported = pd.read_csv(tmp_path / "out" / "geodem" / REGION / "profiles.csv").set_index("cluster")["name"]
    assert exported.to_dict() == names["name"].to_dict()

    # The check fails and lists every fallback; the run log warns about each.
    (check,) = [
        c for c in result.get_asset_check_evaluations() if c.check_name == "names_from_configured_namer"
    ]
    assert not check.passed
    listed = [f"{code}: {reasons[code]}" for code in FAILED]
    assert check.metadata["fallbacks"].value == listed
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    for line in listed:
        assert any(f"offline name used: {line}" in w for w in warnings), f"no warning for {line}: {warnings}"
    mat = result.asset_materializations_for_node("cluster_names")[0]
    assert mat.metadata["fallbacks"].value == listed and mat.metadata["sources"].value == {
        "openai": 5,
        "offline": 4,
    }

    # The key is nowhere: files (events, warehouse, exports, cache), console, Python logs, event messages, metadata.
    assert leaks(tmp_path / "dagster_home", result.run_id), "the instance's event files were not searched"
    assert leaks(tmp_path, KEY) == []
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err and KEY not in caplog.text
    events = instance.all_logs(result.run_id)
    assert KEY not in json.dumps([e.user_message for e in events])
    assert KEY not in repr([e.dagster_event for e in events if e.dagster_event is not None])
