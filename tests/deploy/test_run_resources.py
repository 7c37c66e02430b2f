"""Per-partition run pod sizes (partitions/run_resources.py): the models against the measured peaks."""

from __future__ import annotations

import json

import pytest

from partitions.regions import Region, get_region
from partitions.run_resources import (
    K8S_CONFIG_TAG,
    UK_OAS,
    container_resources,
    k8s_run_tags,
    memory_quantity,
    region_output_areas_bound,
    region_peak_gib,
    region_resources,
    user_range_peak_gib,
    user_range_resources,
)


@pytest.mark.parametrize(
    ("users", "n_ranges", "measured_gib"),
    [
        # benchmarks/RESULTS.md: peak memory per range run (PostgreSQL backend; the load test's mean)
        (6_300_000, 16, 1.10),
        (1_575_000, 16, 0.62),
        (6_300_000, 64, 0.63),
        (1_000_000, 16, 0.55),
    ],
)
def test_user_range_model_is_within_five_percent_of_the_measured_peak(users, n_ranges, measured_gib):
    assert user_range_peak_gib(n_ranges, users) == pytest.approx(measured_gib, rel=0.05)


def test_region_model_meets_the_measured_liverpool_and_uk_peaks():
    uk = Region(slug="uk", name="UK", lads=None)
    assert region_peak_gib(uk) == pytest.approx(3.03, rel=0.02)  # detailed boundaries
    # the benchmark's Liverpool City Region had 5,258 OAs and peaked at 0.91 GiB; the bound
    # (6 LADs × 1,500 OAs) must not size it below that
    assert region_peak_gib(get_region("liverpool-city-region")) >= 0.91


def test_region_bound_is_per_lad_and_capped_at_the_uk():
    assert region_output_areas_bound(Region(slug="x", name="x", lads=("E08000012",))) == 1_500
    assert (
        region_output_areas_bound(Region(slug="x", name="x", lads=tuple(f"L{i}" for i in range(500))))
        == UK_OAS
    )
    assert region_output_areas_bound(get_region("uk")) == UK_OAS


def test_request_has_headroom_and_is_whole_128_mib():
    assert memory_quantity(1.0) == "1280Mi"  # 1 GiB × 1.25
    assert memory_quantity(1.01) == "1408Mi"  # 1.2625 GiB rounded up to 11 × 128 MiB
    for gib in (0.3, 0.77, 2.8):
        mib = int(memory_quantity(gib)[:-2])
        assert mib % 128 == 0 and mib >= gib * 1.25 * 1024


@pytest.mark.parametrize("bad", [0, -1.0, float("nan")])
def test_memory_quantity_refuses_a_non_positive_peak(bad):
    with pytest.raises(ValueError, match="peak memory must be positive"):
        memory_quantity(bad)


@pytest.mark.parametrize(("n_ranges", "users"), [(0, 1000), (16, 0)])
def test_user_range_model_refuses_empty_inputs(n_ranges, users):
    with pytest.raises(ValueError, match="must be positive"):
        user_range_peak_gib(n_ranges, users)


def test_memory_limit_equals_request_and_cpu_is_not_limited():
    r = container_resources(1.0, cpu="2")
    assert r == {"requests": {"cpu": "2", "memory": "1280Mi"}, "limits": {"memory": "1280Mi"}}


def test_more_ranges_mean_smaller_pods_and_the_uk_the_largest_region():
    assert user_range_resources(16) != user_range_resources(256)
    assert region_resources(get_region("uk"))["requests"]["cpu"] == "2"
    assert region_resources(get_region("wales"))["requests"]["cpu"] == "1"


def test_tag_is_the_json_dagster_k8s_reads():
    tags = k8s_run_tags(container_resources(1.0))
    assert set(tags) == {K8S_CONFIG_TAG}
    assert json.loads(tags[K8S_CONFIG_TAG]) == {"container_config": {"resources": container_resources(1.0)}}


def test_the_helm_chart_s_default_run_pod_is_the_uk_region_s_size():
    """deploy/helm/values.yaml sizes a run without the partition's tag as the largest partition."""
    from pathlib import Path

    import yaml

    values = yaml.safe_load((Path(__file__).resolve().parents[2] / "deploy/helm/values.yaml").read_text())
    default = values["runLauncher"]["config"]["k8sRunLauncher"]["resources"]
    uk = region_resources(get_region("uk"))
    assert default["requests"]["memory"] == uk["requests"]["memory"]
    assert default["limits"] == uk["limits"]
