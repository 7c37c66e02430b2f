"""Run the census release and one region partition of geodem_region_job in this process.

    python -m tests.reliability.region_runner WORK CENSUS

With GEODEM_TEST_HANG_AT_KMEANS=N the N-th call of geodem_assets.clustering.kmeans (1: the
supergroups, 2: the first subgroup fit) writes its pid to WORK/in_kmeans and waits there for
the test to SIGKILL the process: a kill in the middle of k-means, at a known place.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REGION = "liverpool-city-region"
RUN_CONFIG = {
    "ops": {
        "cluster_diagnostics": {"config": {"n_init": 3, "max_k": 5}},
        "supergroups": {"config": {"k": 4}},
        "subgroups": {"config": {"subgroups": [2, 2, 2, 2]}},
        # The kill is in k-means; a short seeded layout keeps each of the five runs quick.
        "cluster_embedding": {"config": {"n_epochs": 30}},
    }
}


def _hang_at(call: int, marker: Path) -> None:
    from geodem_assets import clustering

    real, calls = clustering.kmeans, [0]

    def kmeans(*args, **kwargs):
        calls[0] += 1
        if calls[0] == call:
            marker.write_text(str(os.getpid()))
            time.sleep(600)
        return real(*args, **kwargs)

    clustering.kmeans = kmeans


def main(work: Path, census: Path) -> int:
    hang = int(os.environ.get("GEODEM_TEST_HANG_AT_KMEANS", "0"))
    if hang:
        _hang_at(hang, work / "in_kmeans")
    import dagster as dg

    from tests.pipelines.harness import make_defs, make_resources, run

    defs = make_defs(make_resources(work, census_dir=census))
    instance = dg.DagsterInstance.ephemeral()
    ok = run(defs, "census_release_job", instance).success
    return 0 if ok and run(defs, "geodem_region_job", instance, REGION, RUN_CONFIG).success else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
