"""The home-location asset graph: userday file -> located rows -> user-days per country -> home -> Local/Tourist."""

from typing import Literal

import dagster as dg
import pandas as pd
from pydantic import Field

from common.figures import figure_markdown
from common.markdown import markdown_table
from homeloc_assets import storage
from homeloc_assets.countries import assign_countries, load_countries
from homeloc_assets.inference import (
    DEFAULT_Z,
    HOME_COLUMN_DESCRIPTIONS,
    classify,
    infer_home,
    summarise_counts,
    users_without,
    with_rounded_userdays,
)
from homeloc_assets.reader import read_range
from homeloc_assets.stale_ranges import find_stale, prune_stale
from partitions.definitions import user_range, user_range_partitions
from resources.hll import HLLError
from resources.hll_backends import HLLExtensionMissing
from resources.hll_resource import HLLResource
from resources.output_store import OutputStore
from resources.userday_source import UserdaySource
from resources.warehouse import Warehouse

GROUP = "home_location"
KEY = "user_range"
# PostgreSQL unreachable or restarting: waits of about 3, 9, 21, 45 and 93 s (each ± 3 s) ride out a
# restart or a failover of up to about three minutes within one run; run retries (dagster.yaml) add more.
DB_RETRY = dg.RetryPolicy(max_retries=5, delay=3, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


class HomeRulesConfig(dg.Config):
    """Evidence rules of the home country (see homeloc_assets/inference.py)."""

    min_userdays: float = Field(
        default=5.0,
        description="Fewer estimated user-days in the home country: insufficient_evidence (0 with "
        "rule argmax reproduces the reference workflow).",
    )
    rule: Literal["hll_error", "argmax"] = Field(
        default="hll_error",
        description="'hll_error': a tie unless the home leads the runner-up by more than z standard "
        "errors of the difference of the two HLL estimates; 'argmax': the reference workflow's plain "
        "arg-max, never a tie.",
    )
    z: float = Field(
        default=DEFAULT_Z,
        description="Standard errors the home must lead by under rule hll_error (1.645: a classified "
        "home is at least 95 % likely to be ahead).",
    )


HOME_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn(name, kind, description=HOME_COLUMN_DESCRIPTIONS[name])
        for name, kind in [
            ("user_guid", "string"),
            ("home_country", "string"),
            ("home_userdays", "float64"),
            ("home_userdays_rounded", "int64"),
            ("total_userdays", "float64"),
            ("total_userdays_rounded", "int64"),
            ("runner_up_country", "string"),
            ("runner_up_userdays", "float64"),
            ("runner_up_userdays_rounded", "int64"),
            ("n_countries", "int64"),
            ("margin_se", "float64"),
            ("confidence", "float64"),
            ("status", "string"),
        ]
    ]
)


# An external asset: the file is produced elsewhere; userday_file_sensor watches it slice by slice.
userday_source = dg.AssetSpec(
    "userday_source",
    group_name=GROUP,
    description="The userday CSV sorted by user_guid (user_guid, latitude, longitude, userday_hll); read by byte slices, never loaded whole.",
)


@dg.asset(
    group_name=GROUP,
    partitions_def=user_range_partitions,
    deps=[userday_source],
    description="The range's rows (its byte slice of the sorted file), validated, each point given a country; bad lines quarantined. Partition keys are user_guid hex prefixes: '3' holds the guids starting with 3, '00-0f' those from 00 to 0f.",
)
def user_locations(
    context: dg.AssetExecutionContext, userdays: UserdaySource, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    r = user_range(context.partition_key)
    read = read_range(userdays.path, r.lo, r.hi, expected_params=userdays.expected_params)
    rows = read.rows
    country, how = assign_countries(
        rows["latitude"].to_numpy(),
        rows["longitude"].to_numpy(),
        load_countries(userdays.countries_path),
        userdays.max_offshore_km,
    )
    rows = rows.assign(country=country, located=how)
    storage.write(outputs, "user_locations", r.key, rows)
    warehouse.replace_partition("userday_quarantine", KEY, r.key, read.quarantine)
    stats = pd.DataFrame(
        [
            {
                "n_lines": read.n_lines,
                "n_rows": len(rows),
                "n_quarantined": len(read.quarantine),
                "n_no_country": int((how == "none").sum()),
                "first_line": read.first_line,
                "start_byte": read.start,
                "end_byte": read.end,
                "slice_fingerprint": read.fingerprint,
            }
        ]
    )
    warehouse.replace_partition("user_locations_stats", KEY, r.key, stats)
    if len(read.quarantine):
        context.log.warning(
            f"range {r.key}: {len(read.quarantine)} of {read.n_lines} lines quarantined (table userday_quarantine)"
        )
    kinds = read.quarantine["kind"].value_counts().to_dict() if len(read.quarantine) else {}
    return dg.MaterializeResult(
        metadata={
            **storage.written(outputs, "user_locations", r.key, rows),
            "lines": read.n_lines,
            "quarantined": len(read.quarantine),
            "quarantine_kinds": dg.MetadataValue.json(kinds),
            "located": dg.MetadataValue.json(pd.Series(how).value_counts().to_dict()),
            "users": int(rows["user_guid"].nunique()),
            "user_guids": r.describe(),
            "byte_range": f"{read.start}-{read.end}",
            "first_line": read.first_line,
            "slice_fingerprint": read.fingerprint,
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=user_range_partitions,
    deps=[user_locations],
    pool="hll_db",
    retry_policy=DB_RETRY,
    description="Estimated distinct user-days per (user, country) and per user: HLL unions and cardinalities, one set-based statement per range.",
)
def user_country_userdays(
    context: dg.AssetExecutionContext, hll: HLLResource, outputs: OutputStore
) -> dg.MaterializeResult:
    key = context.partition_key
    rows = storage.read(outputs, "user_locations", key)
    located = rows[rows["country"].notna()][["user_guid", "country", "userday_hll"]]
    try:
        per_country, per_user = hll.aggregate(located)
    except (HLLError, HLLExtensionMissing, ValueError) as exc:
        # Bad values or a database without the extension: no wait changes them, so fail now, not after minutes of retries.
        raise dg.Failure(description=f"range {key}: {exc}", allow_retries=False) from exc
    # The estimator's values as they are, and rounded twins for reading.
    per_country, per_user = with_rounded_userdays(per_country, per_user)
    storage.write(outputs, "user_country_userdays", key, per_country)
    storage.write(outputs, "user_total_userdays", key, per_user)
    return dg.MaterializeResult(
        metadata={
            **storage.written(outputs, "user_country_userdays", key, per_country),
            "users": len(per_user),
            "backend": type(hll).__name__,
            "mean_countries_per_user": float(len(per_country) / max(len(per_user), 1)),
        }
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=user_range_partitions,
    deps=[user_country_userdays],
    description="Home country per user (most estimated user-days), runner-up, the confidence that the home is ahead, and a status: classified, tie (within HLL error), insufficient_evidence or no_country.",
    metadata={"dagster/column_schema": HOME_SCHEMA},
)
def user_home_country(
    context: dg.AssetExecutionContext,
    config: HomeRulesConfig,
    userdays: UserdaySource,
    warehouse: Warehouse,
    outputs: OutputStore,
) -> dg.MaterializeResult:
    key = context.partition_key
    per_country = storage.read(outputs, "user_country_userdays", key)
    per_user = storage.read(outputs, "user_total_userdays", key)
    users = storage.read(outputs, "user_locations", key, columns=["user_guid"])["user_guid"]
    home = infer_home(
        per_country,
        per_user,
        users_without(users, per_user),
        min_userdays=config.min_userdays,
        rule=config.rule,
        z=config.z,
        log2m=userdays.log2m,
    )
    storage.write(outputs, "user_home_country", key, home)
    warehouse.replace_partition("user_home_country", KEY, key, home)
    return dg.MaterializeResult(
        metadata={
            **storage.written(outputs, "user_home_country", key, home),
            "status": dg.MetadataValue.json(home["status"].value_counts().to_dict()),
            "rules": dg.MetadataValue.json({**config.model_dump(), "log2m": userdays.log2m}),
            "confidence_of_classified": dg.MetadataValue.json(_quantiles(home)),
        }
    )


def _quantiles(home: pd.DataFrame) -> dict:
    """Minimum, median and 5th percentile of the classified users' confidence."""
    values = home.loc[home["status"] == "classified", "confidence"]
    if values.empty:
        return {}
    return {"min": float(values.min()), "p05": float(values.quantile(0.05)), "median": float(values.median())}


@dg.asset(
    group_name=GROUP,
    partitions_def=user_range_partitions,
    deps=[user_home_country],
    description="Local (home = study country), Tourist (home elsewhere) or Unclassified, per user.",
)
def user_classification(
    context: dg.AssetExecutionContext, userdays: UserdaySource, warehouse: Warehouse, outputs: OutputStore
) -> dg.MaterializeResult:
    key = context.partition_key
    classified = classify(
        storage.read(outputs, "user_home_country", key), study_country=userdays.study_country
    )
    storage.write(outputs, "user_classification", key, classified)
    warehouse.replace_partition(
        "user_classification", KEY, key, classified[["user_guid", "home_country", "status", "classification"]]
    )
    return dg.MaterializeResult(
        metadata={
            **storage.written(outputs, "user_classification", key, classified),
            "study_country": userdays.study_country,
            "classification": dg.MetadataValue.json(classified["classification"].value_counts().to_dict()),
        }
    )


class SummaryConfig(dg.Config):
    """Run config of locals_tourists_summary."""

    prune_stale_ranges: bool = Field(
        default=False,
        description="Delete the results of user ranges that are no longer partitions (GEODEM_USER_RANGES "
        "changed) before counting; they are never counted either way.",
    )


@dg.asset(
    group_name=GROUP,
    deps=[user_classification],
    automation_condition=dg.AutomationCondition.eager(),
    description="Totals over the current user ranges: locals, tourists, their ratio, tourists' home countries; combined user_home_country.parquet. Results of ranges that are no longer partitions are left out and named.",
)
def locals_tourists_summary(
    context: dg.AssetExecutionContext,
    config: SummaryConfig,
    userdays: UserdaySource,
    warehouse: Warehouse,
    outputs: OutputStore,
) -> dg.MaterializeResult:
    # Counted and exported inside DuckDB: the summary's memory does not grow with the number of users.
    # Only the current ranges' results are read, wherever they were written (a folder or an object store).
    homeloc = outputs.location("homeloc")
    current = user_range_partitions.get_partition_keys()
    pruned = prune_stale(warehouse, homeloc, current) if config.prune_stale_ranges else {}
    stale = find_stale(warehouse, homeloc, current)
    if stale.keys:
        context.log.warning(
            f"results of {len(stale.keys)} user range(s) that are not partitions of the current "
            f"{len(current)}-range definition (GEODEM_USER_RANGES changed): {stale.keys}; they are not "
            "counted or exported; remove them with `geodem homeloc prune-stale`"
        )
    only = (KEY, current)
    warehouse.export_parquet(
        "user_home_country",
        outputs.location("homeloc", "user_home_country.parquet"),
        order_by="user_guid",
        exclude=KEY,
        only=only,
    )
    warehouse.export_parquet(
        "user_classification",
        outputs.location("homeloc", "user_classification.parquet"),
        order_by="user_guid",
        exclude=KEY,
        only=only,
    )
    summary = summarise_counts(
        warehouse.counts("user_classification", ["classification", "status", "home_country"], only=only)
    )
    # A range is done once its classification file exists (written even when the range holds no user).
    written = set(outputs.names("homeloc", "user_classification", suffix=".parquet"))
    ranges_done = {k for k in current if f"{k}.parquet" in written}
    tourists = pd.Series(summary["tourists_by_home_country"], dtype="int64")
    return dg.MaterializeResult(
        metadata={
            # The combined home table it exported (user_classification.parquet beside it).
            "dagster/column_schema": HOME_SCHEMA,
            "dagster/row_count": summary["n_users"],
            "dagster/uri": outputs.uri("homeloc", "user_home_country.parquet"),
            "users": summary["n_users"],
            "ranges_included": len(ranges_done),
            "ranges_expected": len(current),
            "ranges_missing": dg.MetadataValue.json([k for k in current if k not in ranges_done]),
            "range_count_changed": stale.range_count_changed,
            "stale_ranges": dg.MetadataValue.json(stale.keys),
            "stale_ranges_pruned": dg.MetadataValue.json(pruned),
            "locals": summary["n_local"],
            "tourists": summary["n_tourist"],
            "unclassified": summary["n_unclassified"],
            "status": dg.MetadataValue.json(summary["by_status"]),
            "locals_to_tourists": dg.MetadataValue.text(summary["ratio"] or "no locals"),
            "study_country": userdays.study_country,
            "top_tourist_home_countries": dg.MetadataValue.md(
                markdown_table(tourists.head(15).rename_axis("country").reset_index(name="tourists"))
            ),
            "chart": dg.MetadataValue.md(_bar_chart(summary)),
            "map": dg.MetadataValue.md(_tourist_map(tourists, userdays.countries_path)),
            "file": dg.MetadataValue.path(outputs.location("homeloc", "user_home_country.parquet")),
        }
    )


def _bar_chart(summary: dict) -> str:
    from common.figures import plt

    fig, ax = plt.subplots(figsize=(5, 3))
    labels = ["Local", "Tourist", "Unclassified"]
    ax.bar(
        labels,
        [summary["n_local"], summary["n_tourist"], summary["n_unclassified"]],
        color=["#2b8cbe", "#e34a33", "#bdbdbd"],
    )
    ax.set_ylabel("users")
    ax.set_title("Users by classification")
    return figure_markdown(fig, "classification bar chart")


def _tourist_map(tourists: pd.Series, countries_path: str) -> str:
    from common.figures import plt

    world = load_countries(countries_path)
    world = world.assign(tourists=world["name"].map(tourists).fillna(0))
    fig, ax = plt.subplots(figsize=(9, 4.5))
    world.plot(ax=ax, color="#eeeeee", linewidth=0.2, edgecolor="#999999")
    world[world["tourists"] > 0].plot(
        ax=ax, column="tourists", cmap="OrRd", legend=True, linewidth=0.2, edgecolor="#999999"
    )
    ax.set_axis_off()
    ax.set_title("Tourists by home country")
    return figure_markdown(fig, "tourists' home countries")


assets = [
    userday_source,
    user_locations,
    user_country_userdays,
    user_home_country,
    user_classification,
    locals_tourists_summary,
]
