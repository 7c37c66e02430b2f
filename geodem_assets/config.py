"""Run config of the geodemographic assets, as the launchpad shows it: every field described."""

from __future__ import annotations

from typing import Literal

import dagster as dg
from pydantic import Field

Method = Literal["fast", "reference"]

_METHOD = (
    "'fast' (default): the project's multi-start k-means search (geodem_assets.kmeans); "
    "'reference': the reference workflow's scikit-learn calls, to reproduce its published figures."
)
_SEED = "Random seed of the k-means starts: the same seed gives the same clusters."


class ClusterConfig(dg.Config):
    """Run config of `supergroups` and `subgroups` (which fits every tier below the supergroups);
    unset values fall back to regions.yaml, then to the diagnostics' suggestion (a vote of five
    criteria).

    method "fast" (default) runs the multi-start search of geodem_assets.kmeans, n_init its
    k-means++ starts (default 18); "reference" runs the reference workflow's scikit-learn call,
    KMeans(init="random", n_init=1000 by default), to reproduce its published figures.
    """

    k: int | None = Field(
        default=None,
        description="Number of supergroups. Unset: the region's k in regions.yaml, else the diagnostics' suggestion (a vote of five criteria).",
    )
    depth: int | None = Field(
        default=None,
        description="Tiers: 2 = supergroups A, B and subgroups A1, A2 (the workshop's); 3 = supergroups A, "
        "groups A1, A2 and subgroups A1a, A1b (the OAC's). Unset: the region's depth in regions.yaml, else 2.",
    )
    groups: list[int] | None = Field(
        default=None,
        description="Depth 3: groups per supergroup, in supergroup order (A, B, …), e.g. [3, 3, 3, 3, 2, 3, 2, 2]. "
        "Unset: regions.yaml, else the same vote on each supergroup's own clustergram.",
    )
    subgroups: list[int] | None = Field(
        default=None,
        description="Subgroups per supergroup (depth 2), in supergroup order (A, B, …), e.g. [3, 3, 4, 3, 3]; "
        "at depth 3 per group, in group order (A1, A2, …, B1, …). "
        "Unset: regions.yaml, else the same vote on each parent's own clustergram.",
    )
    method: Method = Field(default="fast", description=_METHOD)
    n_init: int | None = Field(
        default=None,
        description="k-means starts. Unset: 18 k-means++ starts for 'fast', 1,000 random starts for 'reference'.",
    )
    seed: int = Field(default=507, description=_SEED)
    on_too_few_distinct: Literal["fail", "lower_k"] = Field(
        default="fail",
        description="A level (the supergroups, or one supergroup's subgroups) with fewer distinct rows "
        "than its k: 'fail' names the region, level, k and distinct rows; 'lower_k' fits k = the "
        "distinct rows and says so in the metadata. An empty cluster is never returned.",
    )


class DiagnosticsConfig(dg.Config):
    """Run config of the clustergram for k = 1..max_k (method and n_init as in ClusterConfig;
    the reference method is the clustergram package's k-means++ with n_init 100 per k)."""

    max_k: int = Field(default=9, description="Largest k of the clustergram (k = 1..max_k).")
    method: Method = Field(default="fast", description=_METHOD)
    n_init: int | None = Field(
        default=None,
        description="k-means starts per k. Unset: the fast search's default, or 100 per k for 'reference'.",
    )
    seed: int = Field(default=507, description=_SEED)


class EmbeddingConfig(dg.Config):
    """Run config of the UMAP embedding; the defaults are the reference workflow's parameters.

    UMAP's layout runs on one thread when it is given a seed (so that it is reproducible);
    deterministic=False drops the seed and uses every core, and the embedding then differs
    from run to run. For the whole UK (about 239,000 OAs) the layout is the longest step:
    regions.yaml gives the uk partition 200 epochs (UMAP's own default for large data);
    n_epochs here overrides the region's setting for one run.
    """

    n_epochs: int | None = Field(
        default=None,
        description="UMAP optimisation epochs. Unset: the region's umap_epochs in regions.yaml, else the reference's 500.",
    )
    deterministic: bool = Field(
        default=True,
        description="True: seeded, single-threaded layout (the same picture every run). "
        "False: no seed, every core, a different picture each run.",
    )
