"""deploy/helm/values.yaml against the Dagster chart's published values.schema.json (vendored copy)."""

from __future__ import annotations

import copy
import json
import re

import pytest

from tests.deploy import chart

SECRET_ENV = {"OPENAI_API_KEY", "GEODEM_HLL_DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.fixture(scope="module")
def values():
    return chart.load_values()


def test_values_validate_against_the_chart_schema(values):
    assert chart.errors(values) == []


def test_vendored_schema_copy_is_the_one_its_readme_records():
    readme = (chart.HELM / "README.md").read_text()
    schema = json.loads(chart.SCHEMA.read_text())
    assert schema["title"] == "DagsterHelmValues"
    assert "bdb8547fab497826eeec292bc160b549a0a329ef" in readme
    assert f"{len(chart.SCHEMA.read_text()):,}" in readme


def _set(values: dict, path: str, value) -> dict:
    out = copy.deepcopy(values)
    node = out
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        # a misspelt key where the chart forbids unknown keys
        (
            "runLauncher.config.k8sRunLauncher.resource",
            {"limits": {"memory": "1Gi"}},
            "Additional properties",
        ),
        (
            "dagsterDaemon.runCoordinator.config.queuedRunCoordinator.maxConcurentRuns",
            8,
            "Additional properties",
        ),
        ("dagsterDaemon.runCoordinators", {}, "Additional properties"),
        # a launcher the chart does not know, and one whose config block is missing
        ("runLauncher.type", "K8sRunLaunchr", "is not one of"),
        ("runLauncher.type", "CeleryK8sRunLauncher", "'celeryK8sRunLauncher' is a required property"),
        # wrong types and enums
        (
            "dagsterDaemon.runCoordinator.config.queuedRunCoordinator.maxConcurrentRuns",
            "eight",
            "is not valid",
        ),
        ("dagster-user-deployments.deployments.0.port", "3030", "is not of type 'integer'"),
        ("dagster-user-deployments.deployments.0.image.pullPolicy", "Sometimes", "is not one of"),
        ("postgresql.enabled", "no", "is not of type 'boolean'"),
        ("additionalInstanceConfig", [], "is not of type 'object'"),
    ],
)
def test_a_wrong_value_fails_schema_validation(values, path, value, error):
    found = chart.errors(_set(values, path, value))
    assert found, f"{path}={value!r} passed the schema"
    assert any(error in e for e in found), found


def test_code_location_serves_our_image_on_3030_with_the_code_server(values):
    d = chart.code_location(values)
    assert d["port"] == 3030
    assert d["codeServerArgs"] == ["-m", "definitions"]
    assert d["image"]["tag"] and d["image"]["repository"].endswith("/geodem-platform")


def test_inputs_and_outputs_are_object_store_urls(values):
    env = chart.code_location(values)["env"]
    for name in ("GEODEM_CENSUS_DIR", "GEODEM_USERDAYS_CSV", "GEODEM_OUTPUT_DIR"):
        assert env[name].startswith("s3://"), name


def test_no_secret_is_written_in_the_values(values):
    env = chart.code_location(values)["env"]
    assert not SECRET_ENV & set(env), "secrets belong in a Kubernetes Secret, not in env"
    assert {s["name"] for s in chart.code_location(values)["envSecrets"]} == {"geodem-secrets"}
    assert "postgresqlPassword" not in values["postgresql"]
    assert values["generatePostgresqlPasswordSecret"] is False
    text = chart.VALUES.read_text()
    assert not re.search(r"(?i)(password|secret_access_key|api_key)\s*:\s*\S", text)


def test_run_queue_pool_and_retries_match_the_instance_design(values):
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator" and coordinator["enabled"] is True
    assert coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] >= 1
    extra = values["additionalInstanceConfig"]
    assert extra["concurrency"]["pools"]["default_limit"] == 2
    assert extra["run_retries"]["retry_on_asset_or_op_failure"] is False
    # rendered twice (chart block and additionalInstanceConfig) the dagster.yaml would hold two keys
    assert values["dagsterDaemon"]["runRetries"]["enabled"] is False
    assert values["postgresql"]["enabled"] is False
