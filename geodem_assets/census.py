"""Read and validate a census release: variables, lookup, population, OA and LAD boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from resources.census_files import CensusError, ReleaseFiles

# The distributed census table leaves out the occupancy-rating variables v40 and v41.
EXPECTED_VARIABLES = tuple(f"v{i:02d}" for i in range(1, 61) if i not in (40, 41))
DENSITY_VARIABLE = "v01"


@dataclass
class CensusRelease:
    variables: pd.DataFrame          # index OA, float columns v01..v60
    lookup: pd.DataFrame             # No., Variable_Name, Domain
    population: pd.Series            # index OA, usual residents
    oa: gpd.GeoDataFrame             # OA, geometry (EPSG:27700)
    lad: gpd.GeoDataFrame            # LAD22CD, LAD22NM, geometry
    problems: list[str] = field(default_factory=list)


def _examples(index, n: int = 5) -> str:
    items = list(index[:n])
    more = len(index) - len(items)
    return ", ".join(map(str, items)) + (f" and {more} more" if more > 0 else "")


def validate_variables(df: pd.DataFrame, source: str) -> list[str]:
    """Problems of the census table: missing/extra/non-numeric variables, NaN, negatives, >100 %, duplicate OAs."""
    problems = []
    if len(df) == 0:
        problems.append(f"{source}: no Output Areas (empty table)")
    cols = [str(c) for c in df.columns]
    missing = [v for v in EXPECTED_VARIABLES if v not in cols]
    extra = [c for c in cols if c not in EXPECTED_VARIABLES]
    if missing:
        problems.append(f"{source}: missing variables {', '.join(missing)}")
    if extra:
        problems.append(f"{source}: unexpected columns {', '.join(extra)}")
    dupes = df.index[df.index.duplicated()].unique()
    if len(dupes):
        problems.append(f"{source}: {len(dupes)} duplicate OA codes: {_examples(dupes)}")
    for col in [c for c in EXPECTED_VARIABLES if c in cols]:
        s = df[col]
        if not pd.api.types.is_numeric_dtype(s):
            numeric = pd.to_numeric(s, errors="coerce")
            bad = s.index[numeric.isna() & s.notna()]
            problems.append(f"{source}: variable {col} is not numeric (e.g. OA {_examples(bad, 3)})")
            continue
        nan = s.index[s.isna()]
        if len(nan):
            problems.append(f"{source}: variable {col} has {len(nan)} missing values (OA {_examples(nan)})")
        neg = s.index[s < 0]
        if len(neg):
            problems.append(f"{source}: variable {col} has {len(neg)} negative values (OA {_examples(neg)})")
        if col != DENSITY_VARIABLE:
            over = s.index[s > 100.0001]
            if len(over):
                problems.append(f"{source}: percentage variable {col} has {len(over)} values above 100 (OA {_examples(over)})")
    return problems


def read_release(files: ReleaseFiles) -> CensusRelease:
    """Read the five files; hard failures raise CensusError, data problems are listed in `.problems`."""
    try:
        variables = pd.read_parquet(files.census)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file
        raise CensusError(f"{files.census.name}: cannot read as Parquet ({exc})") from exc
    if variables.index.name != "OA":
        if "OA" in variables.columns:
            variables = variables.set_index("OA")
        else:
            raise CensusError(f"{files.census.name}: no OA index or column")
    variables.index = variables.index.astype(str)
    variables.columns = [str(c) for c in variables.columns]
    problems = validate_variables(variables, files.census.name)

    lookup = pd.read_csv(files.lookup)
    needed = {"No.", "Variable_Name", "Domain"}
    if not needed <= set(lookup.columns):
        raise CensusError(f"{files.lookup.name}: needs columns {', '.join(sorted(needed))}")
    unnamed = [v for v in EXPECTED_VARIABLES if v not in set(lookup["No."])]
    if unnamed:
        problems.append(f"{files.lookup.name}: no name for variables {', '.join(unnamed)}")

    pop = pd.read_csv(files.population, dtype={"OA": str})
    if not {"OA", "uk001001"} <= set(pop.columns):
        raise CensusError(f"{files.population.name}: needs columns OA, uk001001")
    population = pop.drop_duplicates("OA").set_index("OA")["uk001001"]
    counts = pd.to_numeric(population, errors="coerce")
    bad = population.index[counts.isna() | (counts < 0)]
    if len(bad):
        problems.append(f"{files.population.name}: uk001001 is not a non-negative number for {len(bad)} OAs (OA {_examples(bad)})")
    population = counts
    no_pop = variables.index.difference(population.index)
    if len(no_pop):
        problems.append(f"{files.population.name}: {len(no_pop)} OAs without a population: {_examples(no_pop)}")

    oa = gpd.read_file(files.oa_boundaries)
    if "OA" not in oa.columns:
        raise CensusError(f"{files.oa_boundaries.name}: no OA column (columns: {', '.join(map(str, oa.columns))})")
    oa["OA"] = oa["OA"].astype(str)
    empty = oa.geometry.isna() | oa.geometry.is_empty
    if empty.any():
        problems.append(f"{files.oa_boundaries.name}: {int(empty.sum())} OAs with empty geometry: {_examples(pd.Index(oa.loc[empty, 'OA']))}")
    oa = oa.loc[~empty]
    no_geom = variables.index.difference(pd.Index(oa["OA"]))
    if len(no_geom):
        problems.append(f"{files.census.name}: {len(no_geom)} OAs without geometry in {files.oa_boundaries.name}: {_examples(no_geom)}")

    lad = gpd.read_file(files.lad_boundaries)
    if "LAD22CD" not in lad.columns:
        raise CensusError(f"{files.lad_boundaries.name}: no LAD22CD column")
    if "LAD22NM" not in lad.columns:
        lad["LAD22NM"] = lad["LAD22CD"]
    for name, frame in ((files.oa_boundaries.name, oa), (files.lad_boundaries.name, lad)):
        if frame.crs is None or frame.crs.to_epsg() != 27700:
            raise CensusError(f"{name}: expected British National Grid (EPSG:27700), found {frame.crs}")
    return CensusRelease(variables=variables, lookup=lookup[["No.", "Variable_Name", "Domain"]],
                         population=population, oa=oa[["OA", "geometry"]], lad=lad[["LAD22CD", "LAD22NM", "geometry"]],
                         problems=problems)


def numeric_variables(df: pd.DataFrame) -> pd.DataFrame:
    """The expected variables as float64, in order."""
    return df[[v for v in EXPECTED_VARIABLES if v in df.columns]].astype(np.float64)
