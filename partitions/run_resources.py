"""Container resources of one run pod, sized from its partition (region or user-guid range).

On Kubernetes each run is one pod (``K8sRunLauncher``, in-process executor), so the pod must
hold the run's peak memory. Peak memory follows the slice of data a run holds, not the size
of the whole input, so the request is computed per partition instead of one size for all.

Memory models (peak resident memory of the run process, interpreter and imports included),
fitted on the figures in ``benchmarks/RESULTS.md`` (2 cores, each process's own ``VmHWM``):

- user-guid range: ``0.47 GiB + 1.61 GiB per million users in the range``, fitted on the
  PostgreSQL backend (the embedded one peaks lower: 0.92 GiB where PostgreSQL's peaks at
  1.10); through 6,300,000 users in 16 ranges (≈ 394,000 users a range): 1.10 GiB measured,
  1.10 modelled; 1,575,000 users in 16 and 6,300,000 in 64 (≈ 98,000 a range): 0.62–0.63
  measured, 0.63 modelled; 1,000,000 users in 16 (62,500 a range, the backfill load test):
  0.53–0.61 measured, 0.57 modelled.
- region: ``0.86 GiB + 9.07 GiB per million Output Areas``; through Liverpool City Region
  (5,258 OAs, 0.91 GiB) and the UK with detailed boundaries (239,023 OAs, 3.03 GiB; the
  Voronoi cells of the sample census peaked at 2.80). A region's OAs are not known
  before its census is read, so they are bounded from its LAD count at 1,500 OAs a LAD (above
  the largest nation mean, Scotland's ≈ 1,450), capped at the UK total; ``lads: all`` is the UK.

The request adds ``HEADROOM`` (25 %) and rounds up to 128 MiB. Memory limit = request
(a pod over its estimate is killed and re-run by run retries rather than starving its
node's neighbours); CPU is requested, not limited (throttling only slows the single
process down).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from partitions.regions import Region

K8S_CONFIG_TAG = "dagster-k8s/config"

USERS_REFERENCE = 6_300_000  # the reference data set's users: the default expected file size
RANGE_BASE_GIB = 0.47
RANGE_GIB_PER_MILLION_USERS = 1.61
REGION_BASE_GIB = 0.86
REGION_GIB_PER_MILLION_OAS = 9.07
UK_OAS = 239_023
OAS_PER_LAD_BOUND = 1_500
LARGE_REGION_OAS = 100_000  # above this a region run gets 2 CPUs (k-means and BLAS use them)
HEADROOM = 1.25
ROUND_MIB = 128


def region_output_areas_bound(region: Region) -> int:
    """Upper bound of the Output Areas in ``region``: 1,500 per LAD, at most the UK's 239,023."""
    if region.lads is None:
        return UK_OAS
    return min(UK_OAS, OAS_PER_LAD_BOUND * len(region.lads))


def region_peak_gib(region: Region) -> float:
    """Modelled peak memory (GiB) of one region run of ``geodem_region_job``."""
    return REGION_BASE_GIB + REGION_GIB_PER_MILLION_OAS * region_output_areas_bound(region) / 1e6


def user_range_peak_gib(n_ranges: int, expected_users: int = USERS_REFERENCE) -> float:
    """Modelled peak memory (GiB) of one user-range run when ``expected_users`` users are
    spread over ``n_ranges`` ranges (guids are hex digests, so ranges are even).

    Raises ValueError for a non-positive range or user count.
    """
    if n_ranges < 1:
        raise ValueError(f"number of user ranges must be positive, got {n_ranges!r}")
    if expected_users < 1:
        raise ValueError(f"expected users must be positive, got {expected_users!r}")
    return RANGE_BASE_GIB + RANGE_GIB_PER_MILLION_USERS * (expected_users / n_ranges) / 1e6


def memory_quantity(peak_gib: float) -> str:
    """Kubernetes memory quantity for a modelled peak: plus HEADROOM, rounded up to 128 MiB ("1536Mi")."""
    if not peak_gib > 0:
        raise ValueError(f"peak memory must be positive, got {peak_gib!r}")
    mib = math.ceil(peak_gib * HEADROOM * 1024 / ROUND_MIB) * ROUND_MIB
    return f"{mib}Mi"


def container_resources(peak_gib: float, cpu: str = "1") -> dict[str, dict[str, str]]:
    """A container's ``resources`` (Kubernetes ResourceRequirements as a dict) for a modelled peak."""
    memory = memory_quantity(peak_gib)
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}}


def region_resources(region: Region) -> dict[str, dict[str, str]]:
    """Container resources of a region run."""
    cpu = "2" if region_output_areas_bound(region) > LARGE_REGION_OAS else "1"
    return container_resources(region_peak_gib(region), cpu=cpu)


def user_range_resources(n_ranges: int, expected_users: int = USERS_REFERENCE) -> dict[str, dict[str, str]]:
    """Container resources of a user-range run (see ``user_range_peak_gib``)."""
    return container_resources(user_range_peak_gib(n_ranges, expected_users), cpu="1")


def k8s_run_tags(resources: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Run tags that give the run pod's container these resources.

    ``dagster-k8s/config`` is the tag ``K8sRunLauncher`` reads (a JSON string: run tags are
    strings); its ``container_config`` is merged over the launcher's defaults.
    """
    config = {"container_config": {"resources": {k: dict(v) for k, v in resources.items()}}}
    return {K8S_CONFIG_TAG: json.dumps(config, sort_keys=True)}
