"""The run pod's Kubernetes Job, built by dagster-k8s's own K8sRunLauncher from our Helm values.

No cluster: the launcher loads a kubeconfig that points nowhere, and its batch API is replaced by
one that keeps the Job it is asked to create. Everything between the run (its tags, its code
location's image and container context) and that Job is dagster-k8s's code.
"""

from __future__ import annotations

import json
import uuid

import pytest
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.launcher import LaunchRunContext
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.test_utils import instance_for_test
from dagster_k8s.job import get_user_defined_k8s_config

from definitions import defs
from partitions.definitions import USER_RANGE_COUNT, user_range_partitions
from partitions.run_resources import K8S_CONFIG_TAG, k8s_run_tags, user_range_resources
from tests.deploy import chart

PYTHON = "/usr/local/bin/python"  # the interpreter of deploy/Dockerfile's base image
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: "unused"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def partition_tags(job_name: str, key: str) -> dict[str, str]:
    """The tags Dagster gives a run of `job_name` launched for partition `key`."""
    return dict(defs.resolve_job_def(job_name).get_tags_for_partition_key(key, None))


class KeptJobs:
    """Stands in for kubernetes.client.BatchV1Api: keeps the Jobs instead of sending them."""

    def __init__(self):
        self.created = []

    def create_namespaced_job(self, body, namespace, **_kwargs):
        self.created.append((namespace, body))


@pytest.fixture(scope="module")
def values():
    return chart.load_values()


@pytest.fixture(scope="module")
def launch(values, tmp_path_factory):
    """launch(job_name, tags) -> (namespace, V1Job) of the run pod K8sRunLauncher would create."""
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text(KUBECONFIG)
    overrides = {"run_launcher": chart.run_launcher_config(values, str(kubeconfig))}
    with instance_for_test(overrides=overrides) as instance:
        launcher = instance.run_launcher
        kept = KeptJobs()
        launcher._api_client.batch_api = kept
        origin = RepositoryPythonOrigin(
            executable_path=PYTHON,
            code_pointer=ModuleCodePointer("definitions", "defs", working_directory=None),
            container_image=chart.code_location_image(values),
            container_context=chart.code_location_container_context(values),
        )

        def _launch(job_name: str, tags: dict[str, str]):
            run = instance.add_run(
                DagsterRun(
                    job_name=job_name,
                    run_id=str(uuid.uuid4()),
                    tags=tags,
                    job_code_origin=JobPythonOrigin(job_name, origin),
                )
            )
            launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
            return kept.created[-1]

        yield _launch


def container(job):
    (c,) = job.spec.template.spec.containers
    return c


def resources(job) -> dict:
    r = container(job).resources
    return {"requests": dict(r.requests or {}), "limits": dict(r.limits or {})}


def test_run_pod_uses_the_code_location_image_and_our_namespace(launch, values):
    namespace, job = launch("geodem_region_job", partition_tags("geodem_region_job", "uk"))
    assert namespace == chart.NAMESPACE
    c = container(job)
    assert c.image == chart.code_location_image(values)
    # the code server reports its own interpreter; python:3.11-slim's is /usr/local/bin/python
    assert c.args[:5] == [PYTHON, "-m", "dagster", "api", "execute_run"]
    assert job.spec.template.spec.restart_policy == "Never"


def test_run_pod_env_comes_from_secrets_and_config_maps_not_literals(launch, values):
    _, job = launch("homeloc_range_job", partition_tags("homeloc_range_job", "0"))
    c = container(job)
    secrets = {e.secret_ref.name for e in c.env_from if e.secret_ref}
    config_maps = {e.config_map_ref.name for e in c.env_from if e.config_map_ref}
    assert "geodem-secrets" in secrets
    # the code location's env (the s3:// URLs) reaches the pod through its user-env ConfigMap
    assert f"{chart.RELEASE}-dagster-user-deployments-geodem-platform-user-env" in config_maps
    literal = {e.name: e for e in c.env or []}
    for name in ("OPENAI_API_KEY", "GEODEM_HLL_DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert name not in literal
    pg = literal["DAGSTER_PG_PASSWORD"]
    assert pg.value is None
    assert pg.value_from.secret_key_ref.name == values["global"]["postgresqlSecretName"]


def test_run_pod_runs_as_non_root_without_privilege_escalation(launch):
    _, job = launch("geodem_region_job", partition_tags("geodem_region_job", "wales"))
    pod = job.spec.template.spec.security_context
    assert pod.run_as_non_root is True and pod.run_as_user == 10001
    c = container(job).security_context
    assert c.allow_privilege_escalation is False and c.capabilities.drop == ["ALL"]


def _gib(quantity: str) -> float:
    assert quantity.endswith("Mi"), quantity
    return int(quantity[:-2]) / 1024


def test_uk_region_pod_gets_more_memory_and_cpu_than_a_small_region(launch):
    _, uk = launch("geodem_region_job", partition_tags("geodem_region_job", "uk"))
    _, small = launch("geodem_region_job", partition_tags("geodem_region_job", "liverpool-city-region"))
    uk_r, small_r = resources(uk), resources(small)
    assert 3.0 <= _gib(uk_r["requests"]["memory"]) <= 4.0  # ≈ 3 GiB for the UK, plus headroom
    assert _gib(small_r["requests"]["memory"]) <= 1.5
    assert uk_r["limits"]["memory"] == uk_r["requests"]["memory"]
    assert (uk_r["requests"]["cpu"], small_r["requests"]["cpu"]) == ("2", "1")


@pytest.mark.parametrize(("n_ranges", "low", "high"), [(16, 1.4, 1.6), (256, 0.6, 0.8)])
def test_user_range_pod_memory_follows_the_slice(launch, n_ranges, low, high):
    # 6.3 million users: ≈ 394,000 a range in 16 ranges (1.10 GiB peak, 1.38 with the 25 %
    # headroom, 1.5 rounded up to 128 MiB), ≈ 25,000 in 256 (0.51, 0.64, 0.75)
    _, job = launch("homeloc_range_job", k8s_run_tags(user_range_resources(n_ranges, 6_300_000)))
    memory = _gib(resources(job)["requests"]["memory"])
    assert low <= memory <= high, memory


def test_sixteen_ranges_get_bigger_pods_than_256(launch):
    _, big = launch("homeloc_range_job", k8s_run_tags(user_range_resources(16)))
    _, small = launch("homeloc_range_job", k8s_run_tags(user_range_resources(256)))
    # 16 times the slice; both hold the interpreter and imports (the model's 0.47 GiB base)
    assert _gib(resources(big)["requests"]["memory"]) >= 2 * _gib(resources(small)["requests"]["memory"])


def test_range_job_tags_every_partition_with_its_pod_size():
    expected = k8s_run_tags(user_range_resources(USER_RANGE_COUNT))
    for key in user_range_partitions.get_partition_keys():
        assert partition_tags("homeloc_range_job", key)[K8S_CONFIG_TAG] == expected[K8S_CONFIG_TAG]


def test_run_without_the_tag_gets_the_launcher_default_from_the_values(launch, values):
    _, job = launch("homeloc_summary_job", {})
    default = values["runLauncher"]["config"]["k8sRunLauncher"]["resources"]
    assert resources(job) == {"requests": default["requests"], "limits": default["limits"]}


def test_tag_is_read_back_by_dagster_k8s_as_container_resources():
    tags = partition_tags("geodem_region_job", "uk")
    config = get_user_defined_k8s_config(tags)
    assert (
        config.container_config["resources"]
        == json.loads(tags[K8S_CONFIG_TAG])["container_config"]["resources"]
    )
