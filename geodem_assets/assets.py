"""The geodemographic asset graph: census release -> region -> matrix -> clusters -> profiles -> exports."""

import datetime as dt
import hashlib
import itertools
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from common.markdown import markdown_table
from geodem_assets import (
    choose_k,
    clustering,
    columns,
    distributions,
    exports,
    hierarchy,
    maps,
    naming,
    oa_fit,
    plots,
    profiles,
    tiers,
    workshop,
)
from geodem_assets.census import NO_BOUNDARY, NO_CENSUS_ROW, numeric_variables, read_release
from geodem_assets.config import ClusterConfig, DiagnosticsConfig, EmbeddingConfig
from geodem_assets.display import web_map_geometries
from geodem_assets.embedding import UMAP_DEFAULTS, TooFewRowsForEmbedding, neighbour_search, umap_embedding
from geodem_assets.geography import assign_lads, intersects_count, region_oas
from geodem_assets.tables import REGION, from_wkb_frame, present_levels, to_wkb_frame, wide
from geodem_assets.transform import build_matrix
from partitions.definitions import region_partitions
from partitions.regions import get_region
from resources.census_source import CensusSource
from resources.metadata import table_metadata, written_table_metadata
from resources.namers import apply_overrides, load_overrides
from resources.namers.resource import ClusterNamerResource
from resources.output_store import OutputStore
from resources.warehouse import Warehouse

GROUP = "geodemographics"


def _written(warehouse: Warehouse, table: str, df: pd.DataFrame, extra: dict[str, str] | None = None) -> dict:
    """Column schema (every column described), row count and DuckDB table name of `df` written
    to the warehouse table `table`."""
    return written_table_metadata(
        df, columns.describe(table, df.columns, extra), **warehouse.location_metadata(table)
    )


def release_fingerprint(warehouse: Warehouse) -> str:
    """The fingerprint of the census release in the warehouse; a Failure when none was ingested."""
    if not warehouse.has_table("census_release_info"):
        raise dg.Failure("no census release in the warehouse: materialise census_release first")
    return str(warehouse.read("census_release_info")["fingerprint"].iloc[0])


@dg.asset(
    group_name=GROUP,
    description="The census release (variables, lookup, population, OA and LAD boundaries) ingested into DuckDB, fingerprinted; OAs in only one of the census table and the boundary file are listed, not classified.",
)
def census_release(
    context: dg.AssetExecutionContext, census: CensusSource, warehouse: Warehouse
) -> dg.MaterializeResult:
    # Read from a private copy whose fingerprint is of the very bytes read, so a release folder
    # swapped or rewritten meanwhile can neither mix two releases nor record the wrong one.
    with census.snapshot() as snapshot:
        fp = snapshot.fingerprint
        release = read_release(snapshot.files)
    if release.problems:
        # The previous release stays in the warehouse untouched; nothing downstream runs.
        raise dg.Failure(
            description=f"census release {snapshot.where} has {len(release.problems)} problems:\n- "
            + "\n- ".join(release.problems),
            metadata={
                "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in release.problems)),
                "fingerprint": fp,
            },
        )
    assignment = assign_lads(release.oa, release.lad)
    unassigned = assignment[assignment["LAD22CD"].isna()]
    if len(unassigned):
        context.log.warning(f"{len(unassigned)} OAs lie in no LAD: {', '.join(unassigned['OA'][:10])}")
    variables = numeric_variables(release.variables).reset_index()
    oa = release.oa.merge(assignment, on="OA", how="left")
    warehouse.replace_table("census_variables", variables)
    warehouse.replace_table("census_lookup", release.lookup)
    warehouse.replace_table(
        "oa_population", release.population.rename("population").rename_axis("OA").reset_index()
    )
    warehouse.replace_table("oa_boundaries", to_wkb_frame(oa))
    warehouse.replace_table("lad_boundaries", to_wkb_frame(release.lad))
    # OAs in only one of the census table and the boundary file: kept for inspection, not classified.
    warehouse.replace_table("census_unmatched_oas", release.unmatched)
    unmatched = {
        reason: release.unmatched.loc[release.unmatched["reason"] == reason, "OA"]
        for reason in (NO_CENSUS_ROW, NO_BOUNDARY)
    }
    for reason, codes in unmatched.items():
        if len(codes):
            context.log.warning(
                f"{len(codes)} OAs left out of the classification ({reason}): {', '.join(codes[:10])}"
                + (" ..." if len(codes) > 10 else "")
            )
    info = pd.DataFrame(
        [
            {
                "fingerprint": fp,
                "source": str(census.path),
                "loaded_at": dt.datetime.now(dt.UTC).isoformat(),
                "n_oas": len(variables),
                "n_lads": len(release.lad),
            }
        ]
    )
    warehouse.replace_table("census_release_info", info)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(fp),
        metadata={
            "fingerprint": fp,
            "source": str(census.path),
            **_written(warehouse, "census_variables", variables),
            "lads": len(release.lad),
            "variables": len(variables.columns) - 1,
            "oas_without_census_row": len(unmatched[NO_CENSUS_ROW]),
            "census_rows_without_boundary": len(unmatched[NO_BOUNDARY]),
            "unmatched_oas_sample": dg.MetadataValue.json(
                {reason: codes[:20].tolist() for reason, codes in unmatched.items()}
            ),
            "unmatched_oas_table": "census_unmatched_oas",
            "oa_lad_methods": dg.MetadataValue.json(
                assignment["method"].fillna("none").value_counts().to_dict()
            ),
        },
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[census_release],
    description="The region's Output Areas: each OA in exactly one LAD, so in exactly one region.",
)
def region_output_areas(
    context: dg.AssetExecutionContext, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    fp = release_fingerprint(warehouse)
    boundaries = warehouse.read("oa_boundaries", columns=["OA", "LAD22CD"])
    lads = warehouse.read("lad_boundaries")
    if region.lads is not None:
        missing = sorted(set(region.lads) - set(lads["LAD22CD"]))
        if missing:
            raise dg.Failure(
                f"region {region.slug}: LADs {', '.join(missing)} are not in the census release {fp} "
                f"(it has {len(lads)} LADs; a sample release holds only the regions it was generated for)"
            )
    oas = region_oas(boundaries[["OA", "LAD22CD"]], region.lads)
    if len(oas) == 0:
        raise dg.Failure(f"region {region.slug}: no Output Areas in the census release {fp}")
    table = boundaries.set_index("OA").loc[oas, ["LAD22CD"]].reset_index()
    warehouse.replace_partition("region_output_areas", REGION, region.slug, table)
    metadata = {
        **_written(warehouse, "region_output_areas", table),
        "lads": len(table["LAD22CD"].unique()),
        "oas_per_lad": dg.MetadataValue.json(table["LAD22CD"].value_counts().sort_index().to_dict()),
        "census_fingerprint": fp,
    }
    if region.lads is not None:
        geo = from_wkb_frame(warehouse.read("oa_boundaries", columns=["OA", "LAD22CD", "geometry_wkb"]))
        metadata["reference_intersects_oas"] = intersects_count(geo, from_wkb_frame(lads), region.lads)
        geo = geo[geo["OA"].isin(oas)]
        metadata["map"] = dg.MetadataValue.md(plots.cluster_map(geo, "LAD22CD"))
    else:
        geo = from_wkb_frame(
            warehouse.read_matching("oa_boundaries", "OA", oas, columns=["OA", "geometry_wkb"])
        )
    # The outlines every web map of the region draws, simplified once (display only).
    shown = geo[["OA", "geometry"]].set_geometry(web_map_geometries(geo.geometry.to_numpy()))
    warehouse.replace_partition(
        "region_display_geometry", REGION, region.slug, to_wkb_frame(shown).assign(census_fingerprint=fp)
    )
    # The first map: the region's OAs before any clustering, to check it is the region meant.
    lad_names = dict(zip(lads["LAD22CD"], lads["LAD22NM"]))
    outputs.remove("geodem", region.slug, maps.OUTPUT_AREAS_MAP)  # a region too large for one gets none
    with outputs.writing("geodem", region.slug) as folder:
        refused = maps.write_offline_map(
            folder / maps.OUTPUT_AREAS_MAP,
            shown,
            [maps.MapLevel("Local Authority Districts", table.set_index("OA")["LAD22CD"], lad_names)],
            f"{region.name}: {len(table):,} Output Areas in {metadata['lads']} LADs (before clustering)",
            tolerance_m=0.0,
        )
        exports.write_kepler_map(
            folder / maps.OUTPUT_AREAS_KEPLER,
            shown,
            table.assign(LAD22NM=table["LAD22CD"].map(lad_names)),
            f"{region.name}: Output Areas by LAD",
            layers=[("Local Authority Districts", "LAD22CD")],
            columns=["OA", "LAD22CD", "LAD22NM"],
            tolerance_m=0.0,
        )
    metadata["map_file"] = (
        dg.MetadataValue.text(refused)
        if refused
        else dg.MetadataValue.path(outputs.location("geodem", region.slug, maps.OUTPUT_AREAS_MAP))
    )
    metadata["kepler_map_file"] = dg.MetadataValue.path(
        outputs.location("geodem", region.slug, maps.OUTPUT_AREAS_KEPLER)
    )
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[region_output_areas],
    description="Raw census variables of the region's OAs (56 percentages, density v01 and the SIR ratio v42).",
)
def region_census(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    slug = context.partition_key
    oas = warehouse.read("region_output_areas", REGION, slug)["OA"]
    variables = warehouse.read("census_variables")
    table = variables[variables["OA"].isin(oas)].sort_values("OA").reset_index(drop=True)
    warehouse.replace_partition("region_census", REGION, slug, table)
    summary = (
        table.drop(columns="OA").describe().T[["mean", "min", "max"]].round(2).reset_index(names="variable")
    )
    return dg.MaterializeResult(
        metadata={
            **_written(warehouse, "region_census", table),
            "summary": dg.MetadataValue.md(markdown_table(summary.head(60))),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[region_census],
    description="Classification matrix: arcsinh then min-max per variable; configured and zero-variance variables dropped.",
)
def region_matrix(
    context: dg.AssetExecutionContext, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    raw = wide(warehouse.read("region_census", REGION, region.slug))
    result = build_matrix(raw, drop=region.drop_variables)
    if result.dropped_zero_variance:
        context.log.warning(
            f"region {region.slug}: dropped zero-variance variables {', '.join(result.dropped_zero_variance)}"
        )
    warehouse.replace_partition("region_matrix", REGION, region.slug, result.matrix.reset_index())
    pairs = pd.DataFrame(result.high_correlations, columns=["variable_1", "variable_2", "r"])
    # The data before clustering, as files (too detailed to fit inline) and one small inline picture.
    labels = profiles.variable_labels(
        warehouse.read("census_lookup").set_index("No.")["Variable_Name"].to_dict()
    )
    kept = list(result.matrix.columns)
    with outputs.writing("geodem", region.slug) as folder:
        distributions.write_histogram_grid(
            folder / distributions.HISTOGRAMS_RAW, raw[kept], labels, f"{region.name}: raw census variables"
        )
        distributions.write_histogram_grid(
            folder / distributions.HISTOGRAMS_TRANSFORMED,
            result.matrix,
            labels,
            f"{region.name}: transformed (arcsinh, then min-max)",
        )
        distributions.write_correlation_html(folder / distributions.CORRELATION_HTML, result.matrix, labels)

    def where(name: str) -> dg.MetadataValue:
        return dg.MetadataValue.path(outputs.location("geodem", region.slug, name))

    return dg.MaterializeResult(
        metadata={
            "correlation_distribution": dg.MetadataValue.md(
                distributions.correlation_distribution_markdown(result.matrix)
            ),
            "histograms_raw": where(distributions.HISTOGRAMS_RAW),
            "histograms_transformed": where(distributions.HISTOGRAMS_TRANSFORMED),
            "correlation_heatmap": where(distributions.CORRELATION_HTML),
            **_written(warehouse, "region_matrix", result.matrix.reset_index()),
            "variables": result.matrix.shape[1],
            "dropped_configured": dg.MetadataValue.json(result.dropped_configured),
            "dropped_zero_variance": dg.MetadataValue.json(result.dropped_zero_variance),
            "correlated_pairs_over_0_95": dg.MetadataValue.md(
                markdown_table(pairs) if len(pairs) else "none"
            ),
            "variances": dg.MetadataValue.md(plots.variance_bars(result.variances)),
        }
    )


@contextmanager
def _named_level_failure(slug: str):
    """A level with too few distinct rows (or a bad on_too_few_distinct) fails naming the region."""
    try:
        yield
    except clustering.TooFewDistinctRows as err:
        raise dg.Failure(
            f"region {slug}: {err}. Set on_too_few_distinct: lower_k in the run config to fit "
            f"k={err.distinct} instead, or ask for a smaller k",
            metadata={"level": err.level, "k_asked": err.k, "distinct_rows": err.distinct},
        ) from err
    except ValueError as err:
        raise dg.Failure(f"region {slug}: {err}") from err


def _matrix(warehouse: Warehouse, slug: str) -> pd.DataFrame:
    return wide(warehouse.read("region_matrix", REGION, slug))


def _keep_previous_release(warehouse: Warehouse, slug: str, fingerprint: str) -> str | None:
    """When the region's last complete classification was of another census release, copy its
    labels (every level) to `previous_release_labels`, for `release_changes` to compare with.

    Returns that release's fingerprint, or None when there is nothing to keep (first release,
    or a re-run on the same release: the labels of the release before stay kept).
    """
    if not warehouse.has_table("classified_release") or not warehouse.has_table("subgroups"):
        return None
    recorded = warehouse.read("classified_release", REGION, slug)
    if recorded.empty or str(recorded["census_fingerprint"].iloc[0]) == fingerprint:
        return None
    before = str(recorded["census_fingerprint"].iloc[0])
    labels = warehouse.read("subgroups", REGION, slug).drop(columns=REGION)
    warehouse.replace_partition(
        "previous_release_labels", REGION, slug, labels.assign(census_fingerprint=before)
    )
    return before


def _fit_of_each_oa(
    warehouse: Warehouse, slug: str, level: str, matrix: pd.DataFrame, codes: pd.Series, centres: dict, geo
) -> dict:
    """Store `<level>_fit` (each OA's distance, runner-up, silhouette, poor-fit flag); its metadata."""
    fit = oa_fit.oa_fit(matrix.to_numpy(), codes.reindex(matrix.index).to_numpy(), centres)
    table = fit.assign(OA=matrix.index.to_numpy())[["OA", *oa_fit.FIT_COLUMNS]]
    warehouse.replace_partition(f"{level}_fit", REGION, slug, table)
    poor = table.set_index("OA")["poor_fit"]
    worst = oa_fit.worst_fitting(fit, matrix.index, codes.reindex(matrix.index))
    bars = plots.poor_fit_share_bars(poor, codes.reindex(matrix.index).str[0], level)
    return {
        **({"poor_fit_by_supergroup": dg.MetadataValue.md(bars)} if bars else {}),
        "poor_fit_oas": int(poor.sum()),
        "poor_fit_threshold": dg.MetadataValue.float(oa_fit.poor_fit_threshold(fit["distance2"])),
        "mean_simplified_silhouette": dg.MetadataValue.float(
            float(np.nanmean(fit["silhouette"])) if fit["silhouette"].notna().any() else float("nan")
        ),
        "worst_fitting_oas": table_metadata(
            worst,
            {
                "OA": "Output Area",
                "cluster": f"its {level}",
                **{c: oa_fit.FIT_DESCRIPTIONS[c] for c in ("distance2", "second", "silhouette")},
            },
        ),
        "poor_fit_map": dg.MetadataValue.md(plots.poor_fit_map(geo[["OA", "geometry"]], poor, f"{level}s")),
    }


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[region_matrix],
    description="Clustergram for k = 1..9; elbow, silhouette, Calinski-Harabasz, Davies-Bouldin and gap statistic each name a k, and the k most name is suggested.",
)
def cluster_diagnostics(
    context: dg.AssetExecutionContext, config: DiagnosticsConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    slug = context.partition_key
    matrix = _matrix(warehouse, slug)
    X = matrix.to_numpy()
    cg = clustering.clustergram_fits(
        X, range(1, config.max_k + 1), n_init=config.n_init, seed=config.seed, method=config.method
    )
    ks = sorted(cg.fits)
    if cg.note:
        context.log.warning(f"region {slug}: clustergram {cg.note}")
    table = choose_k.scores_table({k: cg.fits[k].inertia for k in ks}, cg.suggestion)
    table["suggested_k"] = cg.suggested_k
    warehouse.replace_partition("cluster_diagnostics", REGION, slug, table)
    # The fits' labels, for the workshop's clustergram picture (classification_exports).
    labels = pd.DataFrame({f"k{k}": cg.fits[k].labels.astype(np.int16) for k in ks})
    labels.insert(0, "OA", matrix.index.to_numpy())
    warehouse.replace_partition(
        "clustergram_labels", REGION, slug, labels.assign(matrix_fingerprint=matrix_fingerprint(matrix))
    )
    picks = {c.name: c.best_k for c in cg.suggestion.criteria}
    return dg.MaterializeResult(
        metadata={
            **_written(warehouse, "cluster_diagnostics", table),
            "suggested_k": cg.suggested_k,
            "decided_by": cg.suggestion.reason,
            "criteria": table_metadata(choose_k.criteria_table(cg.suggestion), choose_k.CRITERIA_COLUMNS),
            "scores": table_metadata(table.drop(columns="suggested_k"), choose_k.SCORE_COLUMNS),
            "skipped_k": dg.MetadataValue.json(cg.skipped),
            "skipped_because": cg.note or "none skipped",
            "clustergram": dg.MetadataValue.md(plots.clustergram_plot(X, {k: cg.fits[k].labels for k in ks})),
            "score_plots": dg.MetadataValue.md(plots.scores_plot(table, picks, cg.suggested_k)),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[cluster_diagnostics],
    description="k-means supergroups A, B, ...: letters stable across re-runs and census releases.",
)
def supergroups(
    context: dg.AssetExecutionContext, config: ClusterConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    kept = _keep_previous_release(warehouse, region.slug, release_fingerprint(warehouse))
    if kept:
        context.log.info(
            f"region {region.slug}: labels of the previous release {kept} kept for release_changes"
        )
    matrix = _matrix(warehouse, region.slug)
    diag = warehouse.read("cluster_diagnostics", REGION, region.slug)
    k, k_source = (
        (config.k, "run config")
        if config.k
        else (region.k, "regions.yaml")
        if region.k
        else (int(diag["suggested_k"].iloc[0]), "diagnostics' suggestion (criteria vote)")
    )
    if k > len(matrix):
        raise dg.Failure(f"region {region.slug} has {len(matrix)} OAs, too few for k={k}")
    with _named_level_failure(region.slug):
        level = clustering.fit_level(
            matrix.to_numpy(),
            k,
            "supergroups",
            on_too_few_distinct=config.on_too_few_distinct,
            n_init=config.n_init,
            seed=config.seed,
            method=config.method,
        )
    fit, k_asked, k = level.fit, k, level.fit.k
    if level.note:
        context.log.warning(f"region {region.slug}: supergroups: {level.note}")
    order, letters_from = clustering.canonical_order(fit), "canonical (largest first)"
    previous = (
        warehouse.read("supergroup_centroids", REGION, region.slug)
        if warehouse.has_table("supergroup_centroids")
        else pd.DataFrame()
    )
    if len(previous):
        prev = previous.drop(columns=[REGION]).set_index("supergroup").sort_index()
        common = [c for c in matrix.columns if c in prev.columns]
        if common and len(prev) == k:
            idx = [list(matrix.columns).index(c) for c in common]
            order = clustering.match_previous(fit.centers[:, idx], prev[common].to_numpy())
            letters_from = "matched to previous centroids"
    fit = clustering.relabel(fit, order)
    codes = pd.Series(clustering.supergroup_codes(fit.labels), index=matrix.index, name="supergroup")
    warehouse.replace_partition("supergroups", REGION, region.slug, codes.reset_index())
    centroids = pd.DataFrame(fit.centers, columns=matrix.columns)
    centroids.insert(0, "supergroup", clustering.supergroup_codes(np.arange(k)))
    warehouse.replace_partition("supergroup_centroids", REGION, region.slug, centroids)
    population = warehouse.read_matching("oa_population", "OA", matrix.index).set_index("OA")["population"]
    size_table = naming.classification_summary(
        profiles.sizes(codes, population).reset_index().assign(level="supergroup")
    ).drop(columns="name")
    geo = from_wkb_frame(
        warehouse.read_matching("oa_boundaries", "OA", matrix.index, columns=["OA", "geometry_wkb"])
    ).merge(codes.reset_index(), on="OA")
    centres = dict(zip(centroids["supergroup"], fit.centers))
    fit_metadata = _fit_of_each_oa(warehouse, region.slug, "supergroup", matrix, codes, centres, geo)
    return dg.MaterializeResult(
        metadata={
            "k": k,
            "k_asked": k_asked,
            "k_lowered": level.note or "no",
            "k_source": k_source,
            "inertia": fit.inertia,
            "method": config.method,
            "n_init": config.n_init or clustering.DEFAULT_STARTS.get(config.method, 0),
            "seed": config.seed,
            "letters": letters_from,
            **_written(warehouse, "supergroups", codes.reset_index()),
            "sizes": table_metadata(
                size_table, {c: d for c, d in naming.CLASSIFICATION_COLUMNS.items() if c != "name"}
            ),
            "map": dg.MetadataValue.md(plots.cluster_map(geo, "supergroup")),
            **fit_metadata,
        }
    )


def _counts_wanted(config: ClusterConfig, region, level: str, depth: int) -> tuple[list[int] | None, str]:
    """The counts per parent the run config or regions.yaml give for `level`, and which gave them.

    regions.yaml's counts apply only to a classification of the region's own depth.
    """
    given = config.groups if level == "group" else config.subgroups
    if given:
        return list(given), "run config"
    mine = region.groups if level == "group" else region.subgroups
    if mine and (region.depth or 2) == depth:
        return list(mine), "regions.yaml"
    return None, ""


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[supergroups],
    description="The tiers below the supergroups, top-down: subgroups A1, A2, … (depth 2), or groups A1, A2, … and subgroups A1a, A1b, … (depth 3); multi-start k-means inside each parent.",
)
def subgroups(
    context: dg.AssetExecutionContext, config: ClusterConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    depth = config.depth or region.depth or 2
    with _named_level_failure(region.slug):
        levels = tiers.levels(depth)
        if config.groups and depth != 3:
            raise ValueError(
                f"groups {config.groups} given, but groups are a depth-3 tier (depth is {depth})"
            )
    matrix = _matrix(warehouse, region.slug)
    parents = wide(warehouse.read("supergroups", REGION, region.slug))["supergroup"].reindex(matrix.index)
    table = pd.DataFrame({"OA": matrix.index, "supergroup": parents.to_numpy()})
    geo = from_wkb_frame(
        warehouse.read_matching("oa_boundaries", "OA", matrix.index, columns=["OA", "geometry_wkb"])
    )
    metadata: dict = {"depth": depth, "levels": ", ".join(levels)}
    for level in levels[1:]:
        wanted, source = _counts_wanted(config, region, level, depth)
        parent_codes = sorted(parents.unique(), key=tiers.sort_key)
        if source == "regions.yaml" and len(wanted or ()) != len(parent_codes):
            context.log.warning(
                f"region {region.slug}: regions.yaml gives {len(wanted or ())} {level} counts for "
                f"{len(parent_codes)} parents; the criteria vote suggests them instead"
            )
            wanted = None
        with _named_level_failure(region.slug):
            counts = hierarchy.counts_for(wanted, parent_codes, f"{level} counts")
        if counts is None:
            source = "diagnostics' suggestion per parent (criteria vote)"
            counts = hierarchy.suggested_counts(
                matrix.to_numpy(),
                parents.to_numpy(),
                n_init=config.n_init,
                seed=config.seed,
                method=config.method,
            )
        previous = (
            warehouse.read(f"{level}_centroids", REGION, region.slug).drop(columns=REGION)
            if warehouse.has_table(f"{level}_centroids")
            else None
        )
        with _named_level_failure(region.slug):
            tier = hierarchy.fit_tier(
                matrix,
                parents,
                level,
                counts,
                previous,
                n_init=config.n_init,
                seed=config.seed,
                method=config.method,
                on_too_few_distinct=config.on_too_few_distinct,
            )
        for parent, note in tier.lowered.items():
            context.log.warning(f"region {region.slug}: {level}s of {parent}: {note}")
        table[level] = tier.codes.to_numpy()
        warehouse.replace_partition(
            f"{level}_centroids", REGION, region.slug, tier.centroid_table(list(matrix.columns))
        )
        prefix = "" if level == "subgroup" else f"{level}_"
        metadata.update(
            {
                f"{prefix}counts": dg.MetadataValue.json(tier.counts),
                f"{prefix}counts_asked": dg.MetadataValue.json(counts),
                f"{prefix}counts_lowered": dg.MetadataValue.json(tier.lowered),
                f"{prefix}counts_source": source,
                f"{prefix}numbers": dg.MetadataValue.json(tier.numbers_from),
                f"{prefix}inertia": dg.MetadataValue.json({p: f.fit.inertia for p, f in tier.fits.items()}),
                f"{prefix}sizes": dg.MetadataValue.json(
                    {
                        c: int(n)
                        for c, n in sorted(
                            tier.codes.value_counts().items(), key=lambda cn: tiers.sort_key(cn[0])
                        )
                    }
                ),
            }
        )
        fit_metadata = _fit_of_each_oa(warehouse, region.slug, level, matrix, tier.codes, tier.centres, geo)
        metadata.update({f"{prefix}{key}": value for key, value in fit_metadata.items()})
        parents, fitted = tier.codes, tier.children()
    warehouse.replace_partition("subgroups", REGION, region.slug, table)
    # Every cluster the fits produced, so that the size checks also see one no OA carries.
    codes = pd.DataFrame({"subgroup": [child for _, child in fitted]})
    if depth == 3:
        codes.insert(0, "group", codes["subgroup"].map(tiers.parent_code))
    codes.insert(0, "supergroup", codes["subgroup"].str[0])
    warehouse.replace_partition("subgroup_codes", REGION, region.slug, codes)
    # The classification of this release is complete: the next release compares with it.
    warehouse.replace_partition(
        "classified_release",
        REGION,
        region.slug,
        pd.DataFrame({"census_fingerprint": [release_fingerprint(warehouse)]}),
    )
    return dg.MaterializeResult(metadata={**metadata, **_written(warehouse, "subgroups", table)})


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[supergroups],
    description="2-D UMAP embedding of the OAs (n_neighbors=30, min_dist=0, cosine, 500 epochs unless regions.yaml says otherwise, seed 508).",
)
def cluster_embedding(
    context: dg.AssetExecutionContext, config: EmbeddingConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    slug = context.partition_key
    matrix = _matrix(warehouse, slug)
    epochs = config.n_epochs or get_region(slug).umap_epochs or UMAP_DEFAULTS["n_epochs"]
    if config.n_epochs is not None and config.n_epochs < 1:
        raise dg.Failure(f"cluster_embedding: n_epochs must be at least 1, got {config.n_epochs}")
    parameters = {**UMAP_DEFAULTS, "n_epochs": epochs}
    if not config.deterministic:
        parameters.update(random_state=None, n_jobs=-1)
    try:
        xy = umap_embedding(matrix.to_numpy(), **parameters)
    except TooFewRowsForEmbedding as err:
        raise dg.Failure(f"region {slug}: {err}") from err
    table = pd.DataFrame({"OA": matrix.index, "UMAP1": xy[:, 0], "UMAP2": xy[:, 1]})
    warehouse.replace_partition("cluster_embedding", REGION, slug, table)
    sup = wide(warehouse.read("supergroups", REGION, slug))["supergroup"].reindex(matrix.index).to_numpy()
    return dg.MaterializeResult(
        metadata={
            **_written(warehouse, "cluster_embedding", table),
            "parameters": dg.MetadataValue.json(parameters),
            "neighbour_search": neighbour_search(len(matrix), UMAP_DEFAULTS["metric"]),
            "embedding": dg.MetadataValue.md(plots.embedding_scatter(xy, sup)),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[subgroups],
    description="Cluster profiles of every tier: OAs, population and their shares; index scores on raw values, on the matrix and against the parent cluster.",
)
def cluster_profiles(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    slug = context.partition_key
    raw = wide(warehouse.read("region_census", REGION, slug))
    matrix = _matrix(warehouse, slug)
    groups = wide(warehouse.read("subgroups", REGION, slug)).reindex(matrix.index)
    population = warehouse.read("oa_population").set_index("OA")["population"]
    raw = raw.loc[matrix.index]
    size_rows, score_rows = [], []
    levels = present_levels(groups)
    for level in levels:
        codes = groups[level]
        size_rows.append(profiles.sizes(codes, population).reset_index().assign(level=level))
        for basis, values in (("raw", raw), ("matrix", matrix)):
            scores = profiles.index_scores(values, codes)
            score_rows.append(profiles.long_scores(scores).assign(level=level, basis=basis))
    # Each group or subgroup also against its parent: what sets it apart there.
    for parent, level in itertools.pairwise(levels):
        within = profiles.subgroup_scores_within(raw, groups[parent], groups[level])
        score_rows.append(profiles.long_scores(within).assign(level=level, basis=f"raw_within_{parent}"))
    size_table = pd.concat(size_rows, ignore_index=True)[
        ["level", "cluster", "oas", "pct_oas", "population", "pct_population"]
    ]
    score_table = pd.concat(score_rows, ignore_index=True)[
        ["level", "basis", "cluster", "variable", "kind", "score"]
    ]
    warehouse.replace_partition("cluster_profiles", REGION, slug, size_table)
    warehouse.replace_partition("cluster_index_scores", REGION, slug, score_table)
    lookup = profiles.variable_labels(
        warehouse.read("census_lookup").set_index("No.")["Variable_Name"].to_dict()
    )
    sup_scores = profiles.index_scores(matrix, groups["supergroup"])
    return dg.MaterializeResult(
        metadata={
            **_written(warehouse, "cluster_profiles", size_table),
            "supergroup_sizes": dg.MetadataValue.md(
                markdown_table(size_table[size_table["level"] == "supergroup"].drop(columns="level"))
            ),
            "index_scores_matrix": dg.MetadataValue.md(
                plots.index_heatmap(sup_scores, lookup, "Supergroup index scores (matrix)")
            ),
        }
    )


OVERRIDES_DIR = Path(__file__).resolve().parents[1] / "partitions" / "overrides"


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[cluster_profiles],
    check_specs=[
        dg.AssetCheckSpec(
            "names_from_configured_namer",
            asset="cluster_names",
            partitions_def=region_partitions,
            blocking=False,
            description="Every name came from the configured namer (or a person); fails when answers were rejected and offline names used instead.",
        )
    ],
    retry_policy=dg.RetryPolicy(
        max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    ),
    description="A name (≤ 3 words) and pen portrait per supergroup and subgroup: OpenAI when configured, offline otherwise; reviewed overrides applied last.",
)
def cluster_names(
    context: dg.AssetExecutionContext, warehouse: Warehouse, namer: ClusterNamerResource
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    sizes = warehouse.read("cluster_profiles", REGION, region.slug)
    scores = warehouse.read("cluster_index_scores", REGION, region.slug)
    lookup = warehouse.read("census_lookup")
    cluster_profiles_ = naming.profiles_for_naming(sizes, scores, lookup)
    report = namer.namer().name_clusters(cluster_profiles_, region.name)
    overrides_file = OVERRIDES_DIR / f"{region.slug}.yaml"
    names = apply_overrides(report.names, load_overrides(overrides_file))
    table = naming.names_table(names, cluster_profiles_)
    warehouse.replace_partition("cluster_names", REGION, region.slug, table)
    for line in report.fallbacks:
        context.log.warning(f"offline name used: {line}")
    classification = naming.classification_summary(sizes.drop(columns=REGION, errors="ignore"), table)
    return dg.MaterializeResult(
        metadata={
            # First, so that the asset page opens on the result: every cluster, named and sized.
            "classification": table_metadata(classification, naming.CLASSIFICATION_COLUMNS),
            **_written(warehouse, "cluster_names", table),
            "sources": dg.MetadataValue.json(table["source"].value_counts().to_dict()),
            "model": next((n.model for n in names if n.source == "openai"), None) or "offline",
            "api_calls": report.api_calls,
            "cache_hits": report.cache_hits,
            "input_tokens": report.input_tokens,
            "output_tokens": report.output_tokens,
            "fallbacks": dg.MetadataValue.json(report.fallbacks),
            "overrides_file": str(overrides_file.relative_to(OVERRIDES_DIR.parents[1])),
            "pen_portraits": dg.MetadataValue.md(naming.names_markdown(table)),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="names_from_configured_namer",
                passed=not report.fallbacks,
                metadata={"fallbacks": dg.MetadataValue.json(report.fallbacks)},
                description=None
                if not report.fallbacks
                else f"{len(report.fallbacks)} clusters fell back to offline names",
            )
        ],
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=region_partitions,
    deps=[cluster_names, cluster_embedding],
    description="GeoPackage, Parquet, CSV, Kepler.gl map and Plotly pages of the classification (every tier), in the output folder.",
)
def classification_exports(
    context: dg.AssetExecutionContext, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    region = get_region(context.partition_key)
    slug = region.slug
    # Clustergrams of an earlier run with more supergroups would otherwise stay beside the new ones.
    outputs.remove_matching("geodem", slug, pattern="clustergram_*.png")
    outputs.remove("geodem", slug, "map_offline.html")  # a region too large for one gets none
    with outputs.writing("geodem", slug) as folder:
        written, table = _write_exports(folder, region, warehouse)
        sizes = {name: (folder / name).stat().st_size for name in written}
    return dg.MaterializeResult(
        metadata={
            "folder": dg.MetadataValue.path(outputs.location("geodem", slug)),
            "files": dg.MetadataValue.json(sizes),
            **written_table_metadata(
                table,
                columns.describe("classification", table.columns),
                uri=outputs.uri("geodem", slug, "classification.parquet"),
            ),
            "census_fingerprint": release_fingerprint(warehouse),
        }
    )


def matrix_fingerprint(matrix: pd.DataFrame) -> str:
    """SHA-256 of a classification matrix's OAs, variables and values (float64 bytes)."""
    digest = hashlib.sha256()
    digest.update("\0".join(map(str, matrix.index)).encode())
    digest.update("\0".join(map(str, matrix.columns)).encode())
    digest.update(np.ascontiguousarray(matrix.to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()


def _clustergram_labels(
    warehouse: Warehouse, slug: str, matrix: pd.DataFrame
) -> dict[int, np.ndarray] | None:
    """cluster_diagnostics' labels k -> (n,) in the order of `matrix`'s rows, when they were
    fitted on this very matrix (same OAs, variables and values: `matrix_fingerprint`); else
    None (the picture refits)."""
    if not warehouse.has_table("clustergram_labels"):
        return None
    stored = warehouse.read("clustergram_labels", REGION, slug)
    if (
        len(stored) != len(matrix)
        or "matrix_fingerprint" not in stored.columns
        or not (stored["matrix_fingerprint"] == matrix_fingerprint(matrix)).all()
    ):
        return None
    stored = stored.set_index("OA").reindex(matrix.index)
    ks = [c for c in stored.columns if c.startswith("k") and c[1:].isdigit() and stored[c].notna().all()]
    return {int(c[1:]): stored[c].to_numpy(dtype=np.int64) for c in ks}


def _web_map_outlines(warehouse: Warehouse, slug: str, boundaries: pd.DataFrame):
    """(the OAs of `boundaries` as the web maps draw them, the tolerance to pass on): the outlines
    `region_output_areas` simplified for this release (tolerance 0: draw as given), else the
    boundaries themselves (None: simplify them in the map)."""
    if warehouse.has_table("region_display_geometry"):
        shown = warehouse.read("region_display_geometry", REGION, slug)
        shown = shown[shown["OA"].isin(boundaries["OA"])]
        current = (
            "census_fingerprint" in shown.columns
            and (shown["census_fingerprint"] == release_fingerprint(warehouse)).all()
        )
        if current and len(shown) == len(boundaries):
            return from_wkb_frame(shown[["OA", "geometry_wkb"]]), 0.0
    return from_wkb_frame(boundaries), None


def _write_exports(folder: Path, region, warehouse: Warehouse) -> tuple[list[str], pd.DataFrame]:
    """Every export file of a region into the local ``folder``: (the names written, the
    classification table written as classification.parquet)."""
    slug = region.slug
    groups = wide(warehouse.read("subgroups", REGION, slug))
    levels = present_levels(groups)
    embedding = wide(warehouse.read("cluster_embedding", REGION, slug))
    named = warehouse.read("cluster_names", REGION, slug)
    names = dict(zip(named["cluster"], named["name"]))
    fits = {level: wide(warehouse.read(f"{level}_fit", REGION, slug)) for level in levels}
    table = exports.classification_table(groups[levels], embedding, names, fits)
    table.to_parquet(folder / "classification.parquet", index=False)
    boundaries = warehouse.read_matching("oa_boundaries", "OA", table["OA"], columns=["OA", "geometry_wkb"])
    exports.write_geopackage(folder / "classification.gpkg", boundaries, table)
    geo, tolerance = _web_map_outlines(warehouse, slug, boundaries)
    del boundaries  # the WKB of a large region is hundreds of MB; the maps need only geo
    sizes = warehouse.read("cluster_profiles", REGION, slug).drop(columns=REGION)
    scores = warehouse.read("cluster_index_scores", REGION, slug)
    raw_scores = scores[scores["basis"] == "raw"].pivot_table(
        index=["level", "cluster"], columns="variable", values="score", dropna=False
    )
    profile_csv = sizes.merge(
        raw_scores.add_prefix("index_").reset_index(), on=["level", "cluster"], how="left"
    )
    profile_csv.insert(2, "name", profile_csv["cluster"].map(names))
    profile_csv.to_csv(folder / "profiles.csv", index=False)
    # The chat-LLM route to names: prompts to paste, answers imported by `geodem names import`.
    prompts = naming.write_name_prompts(
        folder,
        naming.profiles_for_naming(sizes, scores, warehouse.read("census_lookup")),
        names,
        region.name,
    )
    title = f"{region.name} geodemographic classification"
    exports.write_kepler_map(folder / "map.html", geo, table, title, tolerance_m=tolerance)
    indexed = table.set_index("OA")
    offline_refused = maps.write_offline_map(
        folder / "map_offline.html",
        geo,
        [
            *(maps.MapLevel(f"{level.capitalize()}s", indexed[level], names) for level in levels),
            *(
                maps.MapLevel(
                    f"Poorly fitting OAs ({level}s)", maps.poor_fit_codes(indexed[f"{level}_poor_fit"]), {}
                )
                for level in levels
            ),
        ],
        title,
        tolerance_m=tolerance,
    )
    exports.write_umap_html(folder / "umap.html", table, f"{region.name}: UMAP of Output Areas")
    lookup = profiles.variable_labels(
        warehouse.read("census_lookup").set_index("No.")["Variable_Name"].to_dict()
    )
    matrix_scores = scores[(scores["basis"] == "matrix")].pivot_table(
        index="variable", columns="cluster", values="score", dropna=False
    )
    exports.write_profiles_html(
        folder / "profiles.html", matrix_scores, lookup, names, f"{region.name}: index scores (matrix)"
    )
    # The workshop's files, under the names its users look for.
    workshop.classification_csv(table).to_csv(folder / workshop.CLASSIFICATION_CSV, index=False)
    workshop.cluster_descriptions(named).to_csv(folder / workshop.DESCRIPTIONS_CSV, index=False)
    workshop.umap_table(table).to_parquet(folder / workshop.UMAP_PARQUET, index=False)
    matrix = _matrix(warehouse, slug)
    grams = workshop.clustergrams(
        matrix,
        groups["supergroup"],
        groups=groups["group"] if "group" in levels else None,
        whole=_clustergram_labels(warehouse, slug, matrix),
    )
    for gram in grams:
        workshop.write_clustergram_png(folder / gram.file, gram)
    files = [f for f in exports.EXPORT_FILES if not (offline_refused and f == "map_offline.html")]
    return [*files, *workshop.WORKSHOP_FILES, *(g.file for g in grams[1:]), *prompts], table


assets = [
    census_release,
    region_output_areas,
    region_census,
    region_matrix,
    cluster_diagnostics,
    supergroups,
    subgroups,
    cluster_embedding,
    cluster_profiles,
    cluster_names,
    classification_exports,
]
