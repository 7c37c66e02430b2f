"""`geodem names import`: a chat LLM's answer becomes reviewed names, and names and exports are re-run."""

from __future__ import annotations

import json
import sys

import dagster as dg
import pandas as pd
import pytest
import yaml

from geodem_cli.main import LAUNCHED_BY, _console, _instance, main
from sample_data.census import write_sample_census

SLUG = "liverpool-city-region"
PORTRAIT = (
    "Its neighbourhoods have far more flats than the regional average, and fewer families with children."
)
SUPERGROUPS = {
    "A": "Riverside Elders",
    "B": "Dockland Renters",
    "C": "Terrace Row Families",
    "D": "Campus Dwellers",
    "E": "Leafy Avenue Owners",
}

# A quick classification: few k-means starts, a short UMAP layout.
SMALL_RUN = {
    "ops": {
        "supergroups": {"config": {"k": 5, "n_init": 10}},
        "subgroups": {"config": {"subgroups": [3, 3, 4, 3, 3], "n_init": 5}},
        "cluster_embedding": {"config": {"n_epochs": 30}},
    }
}


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    """A small Liverpool City Region classified through the CLI's own helpers, reviewed names in a temporary folder."""
    tmp = tmp_path_factory.mktemp("names_import")
    write_sample_census(tmp / "census", regions=[SLUG], seed=3, scale=0.2, noise=0.03)
    patch = pytest.MonkeyPatch()
    for key, value in {
        "GEODEM_CENSUS_DIR": tmp / "census",
        "GEODEM_OUTPUT_DIR": tmp / "out",
        "GEODEM_WAREHOUSE": tmp / "warehouse.duckdb",
        "DAGSTER_HOME": tmp / "dagster_home",
        "GEODEM_ENV_FILE": tmp / "no.env",
    }.items():
        patch.setenv(key, str(value))
    patch.delenv("OPENAI_API_KEY", raising=False)
    patch.delitem(sys.modules, "definitions", raising=False)  # resources come from the environment above
    from geodem_assets import assets

    overrides = tmp / "overrides"
    overrides.mkdir()
    patch.setattr(assets, "OVERRIDES_DIR", overrides)
    # Another cluster's reviewed portrait, which imports must keep.
    (overrides / f"{SLUG}.yaml").write_text("B2:\n  description: A reviewed portrait of quiet streets.\n")
    from definitions import defs

    instance = _instance()
    assert defs.resolve_job_def("census_release_job").execute_in_process(instance=instance).success
    assert (
        defs.resolve_job_def("geodem_region_job")
        .execute_in_process(instance=instance, partition_key=SLUG, run_config=_console(SMALL_RUN))
        .success
    )
    yield {"tmp": tmp, "overrides": overrides / f"{SLUG}.yaml", "exports": tmp / "out" / "geodem" / SLUG}
    patch.undo()
    sys.modules.pop("definitions", None)


def _names(region) -> pd.DataFrame:
    from resources.warehouse import Warehouse

    return Warehouse(path=str(region["tmp"] / "warehouse.duckdb")).read("cluster_names").set_index("cluster")


def _import(region, answer: str, name: str = "answer.txt") -> int:
    path = region["tmp"] / name
    path.write_text(answer, encoding="utf-8")
    return main(["names", "import", "--region", SLUG, str(path)])


def test_exports_hold_a_prompt_for_the_supergroups_and_one_per_supergroup(region):
    files = sorted(p.name for p in region["exports"].glob("names_prompt*.txt"))
    assert files == ["names_prompt.txt"] + [f"names_prompt_{c}.txt" for c in "ABCDE"]
    text = (region["exports"] / "names_prompt.txt").read_text()
    assert all(f"Cluster {c} (supergroup" in text for c in "ABCDE")
    sub = (region["exports"] / "names_prompt_C.txt").read_text()
    assert all(f"Cluster C{i} (subgroup" in sub for i in (1, 2, 3, 4)) and "supergroup C (" in sub


def test_an_answer_pasted_with_prose_is_stored_and_reaches_names_and_exports(region):
    answer = {f"Cluster {c}": {"name": n, "description": PORTRAIT} for c, n in SUPERGROUPS.items()}
    text = "Here are your names:\n```json\n" + json.dumps(answer, indent=2) + "\n```\nEnjoy."
    runs_before = len(dg.DagsterInstance.get().get_runs())
    assert _import(region, text) == 0
    stored = yaml.safe_load(region["overrides"].read_text())
    assert {c: stored[c]["name"] for c in "ABCDE"} == SUPERGROUPS
    assert stored["B2"] == {"description": "A reviewed portrait of quiet streets."}
    names = _names(region)
    assert names.loc[list("ABCDE"), "name"].to_dict() == SUPERGROUPS
    assert set(names.loc[list("ABCDE"), "source"]) == {"override"}
    table = pd.read_parquet(region["exports"] / "classification.parquet")
    assert set(table["supergroup_name"]) == set(SUPERGROUPS.values())
    # The subgroup prompts now name their supergroup by its reviewed name.
    assert "supergroup C (Terrace Row Families)" in (region["exports"] / "names_prompt_C.txt").read_text()
    runs = dg.DagsterInstance.get().get_runs()
    assert len(runs) == runs_before + 1
    assert runs[0].tags.get(LAUNCHED_BY) == "cli"
    assert {k.to_user_string() for k in runs[0].asset_selection} == {
        "cluster_names",
        "classification_exports",
    }


def test_a_broken_answer_is_refused_naming_each_problem_and_writes_nothing(region, capsys):
    before = region["overrides"].read_bytes() if region["overrides"].exists() else None
    names_before = _names(region)
    runs_before = len(dg.DagsterInstance.get().get_runs())
    answer = {
        "A": {"name": "Very Old Communal Flats", "description": PORTRAIT},
        "B": {"name": "Dockland Renters", "description": "Social renting at index 135 marks it out."},
        "C": {"name": "Dockland Renters", "description": PORTRAIT},
        "D": {"name": "Campus Dwellers", "description": PORTRAIT},
    }
    assert _import(region, json.dumps(answer), "broken.json") == 1
    err = capsys.readouterr().err
    for expected in (
        "A: name 'Very Old Communal Flats' has 4 words",
        "135",
        "E: missing",
        "C: name 'Dockland Renters'",
    ):
        assert expected in err, (expected, err)
    assert (region["overrides"].read_bytes() if region["overrides"].exists() else None) == before
    pd.testing.assert_frame_equal(_names(region), names_before)
    assert len(dg.DagsterInstance.get().get_runs()) == runs_before


def test_reimporting_subgroups_replaces_their_entries(region):
    first = {
        f"A{i}": {"name": f"Quayside {w}", "description": PORTRAIT}
        for i, w in zip((1, 2, 3), ("Pensioners", "Widows", "Veterans"))
    }
    second = {
        f"Subgroup A{i}": {"name": f"Harbour {w}", "description": PORTRAIT}
        for i, w in zip((1, 2, 3), ("Pensioners", "Widows", "Veterans"))
    }
    others = {
        c: e
        for c, e in yaml.safe_load(region["overrides"].read_text()).items()
        if c not in ("A1", "A2", "A3")
    }
    assert _import(region, json.dumps(first), "a1.json") == 0
    assert _import(region, json.dumps(second), "a2.json") == 0
    text = region["overrides"].read_text()
    stored = yaml.safe_load(text)
    assert [stored[f"A{i}"]["name"] for i in (1, 2, 3)] == [
        "Harbour Pensioners",
        "Harbour Widows",
        "Harbour Veterans",
    ]
    assert text.count("A1:") == 1 and "Quayside" not in text
    assert {c: e for c, e in stored.items() if c not in ("A1", "A2", "A3")} == others
    assert stored["B2"] == {"description": "A reviewed portrait of quiet streets."}
    assert _names(region).loc["A1", "name"] == "Harbour Pensioners"
