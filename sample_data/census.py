"""A synthetic UK census in the distributed `input_data/` layout, with its planted OAC types.

Output Areas tessellate real Local Authority Districts (approximate positions, see lads.csv);
each OA gets an OAC 2021 subgroup in spatial patches (dense cores: urban types, rural edges:
rural types) and variables drawn around that subgroup's published centre, mapped back to
raw values by kind (geodem_assets.variables): percentages by a per-variable inverse
calibrated on England & Wales 2021 figures, the density from each OA's population and
polygon, and the Standardised Illness Ratio from a Poisson count of disabled residents.
"""

from __future__ import annotations

import functools
import re
import shutil
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from scipy.stats import poisson

from geodem_assets.variables import BY_CODE, CODES, DENSITY, PERCENTAGE, RATIO, codes_of_kind
from sample_data.geometry import BNG, lad_boundaries, plan_settlement, relaxed_partition

HERE = Path(__file__).parent
LAD_CATALOGUE = HERE / "lads.csv"
CENTROIDS = HERE / "reference" / "oac2021_centroids.csv"
LOOKUP = HERE / "reference" / "census_variable_lookup.csv"
REGIONS = HERE / "reference" / "regions.csv"
LAD_FILE = "Local_Authority_Districts_December_2022_UK_BGC_V2_synthetic.gpkg"
OA_FILE = "OA_2021_22_Boundaries.gpkg"

ALL_CODES = tuple(f"v{i:02d}" for i in range(1, 61))
VARIABLES = CODES  # the release's 58 variables, in order
DENSITY_CODE = "v01"  # comes from the polygons
SIR_CODE = "v42"  # the Standardised Illness Ratio
SAMPLED = tuple(v for v in VARIABLES if v != DENSITY_CODE)  # drawn in the types' transformed space
PERCENTAGES = codes_of_kind(PERCENTAGE)
DEFAULT_REGION = "liverpool-city-region"
DEFAULT_NOISE = 0.1

# England & Wales 2021, mean over OAs of each percentage variable (% of its population,
# geodem_assets.variables gives which). v01 and v42 are not percentages and have no entry.
NATIONAL_MEAN = {
    "v02": 5.4,
    "v03": 11.9,
    "v04": 26.4,
    "v05": 25.4,
    "v06": 16.2,
    "v07": 2.4,
    "v08": 83.2,
    "v09": 6.1,
    "v10": 1.0,
    "v11": 2.2,
    "v12": 1.1,
    "v13": 0.7,
    "v14": 3.1,
    "v15": 2.7,
    "v16": 1.6,
    "v17": 4.0,
    "v18": 3.0,
    "v19": 81.7,
    "v20": 1.6,
    "v21": 37.2,
    "v22": 46.2,
    "v23": 10.7,
    "v24": 37.9,
    "v25": 44.6,
    "v26": 11.5,
    "v27": 30.1,
    "v28": 21.0,
    "v29": 25.9,
    "v30": 58.0,
    "v31": 1.7,
    "v32": 87.0,
    "v33": 23.0,
    "v34": 31.5,
    "v35": 23.0,
    "v36": 22.0,
    "v37": 62.0,
    "v38": 17.1,
    "v39": 20.5,
    "v43": 8.9,
    "v44": 33.0,
    "v45": 28.3,
    "v46": 16.9,
    "v47": 33.8,
    "v48": 31.0,
    "v49": 69.0,
    "v50": 5.8,
    "v51": 12.9,
    "v52": 20.3,
    "v53": 13.3,
    "v54": 9.3,
    "v55": 10.2,
    "v56": 9.3,
    "v57": 7.5,
    "v58": 6.9,
    "v59": 10.5,
    "v60": 3.4,
}
# Value at the top of the transformed scale (t = 1), %: about the highest an OA reaches;
# 100 where a whole OA can be in the category (flats, students' halls, care homes).
TOP = {
    "v02": 30,
    "v03": 45,
    "v04": 90,
    "v05": 70,
    "v06": 85,
    "v07": 80,
    "v09": 70,
    "v10": 25,
    "v11": 60,
    "v12": 75,
    "v13": 50,
    "v14": 80,
    "v15": 85,
    "v16": 50,
    "v17": 75,
    "v18": 30,
    "v20": 40,
    "v26": 40,
    "v28": 60,
    "v29": 80,
    "v43": 30,
    "v44": 90,
    "v45": 60,
    "v46": 60,
    "v48": 70,
    "v51": 50,
    "v52": 70,
    "v53": 40,
    "v54": 30,
    "v55": 40,
    "v56": 40,
    "v57": 35,
    "v58": 40,
    "v59": 50,
    "v60": 30,
}
# Categories that cover everyone: each OA's shares are rescaled to this total.
PARTITIONS = {
    ("v33", "v34", "v35", "v36"): 99.5,
    ("v37", "v38", "v39"): 99.0,
    ("v48", "v49"): 100.0,
    tuple(f"v{i}" for i in range(51, 60)): 100.0,
}
# Categories that leave someone out (aged 15-24, widowed, no religion stated ...): capped.
CAPPED = {
    tuple(f"v0{i}" for i in range(2, 8)): 97.0,
    ("v08", "v09", "v10", "v11"): 100.0,
    tuple(f"v{i}" for i in range(12, 20)): 100.0,
    ("v21", "v22", "v23"): 100.0,
    ("v24", "v25", "v26"): 100.0,
    ("v27", "v28", "v29"): 100.0,
    ("v45", "v46", "v47"): 100.0,
}
# The Standardised Illness Ratio (v42, TS038): 100 × observed / age-expected disabled
# residents. Each OA's relative level exp(SIR_SLOPE × (t − median t)) follows its type's
# transformed v42 (so the national median is about 1); its observed count is Poisson around
# EXPECTED_DISABLED × residents × that level. Small expected counts give some OAs no disabled
# resident (SIR 0) and others far above 100, as in the real table (median about 100, a long
# right tail past 300). The expected count here ignores each OA's age mix.
SIR_SLOPE = 4.5
EXPECTED_DISABLED = 0.075  # day-to-day activities limited a lot: about 7.5 % of residents, E&W 2021
# England & Wales share of OAs per supergroup; the inverse is calibrated on this mix.
SUPERGROUP_SHARE = {"1": 0.10, "2": 0.17, "3": 0.09, "4": 0.09, "5": 0.11, "6": 0.16, "7": 0.15, "8": 0.13}
# Weights before OA density and LAD context act on them, tuned so that a uk=True run
# plants about SUPERGROUP_SHARE in England & Wales.
SUPERGROUP_PRIOR = {
    "1": 0.071,
    "2": 0.148,
    "3": 0.099,
    "4": 0.052,
    "5": 0.114,
    "6": 0.177,
    "7": 0.179,
    "8": 0.16,
}
# How closely an OA's density must match a subgroup's density level (0-1 scale).
URBANITY_WIDTH = 0.15
# Share of the between-type density gradient that also holds within a type at the default
# noise; it scales with noise, like the rest of the within-type variation.
URBAN_GRADIENT = 1.0
# How strongly a LAD's diversity context favours or avoids ethnically diverse types.
DIVERSITY_LEAN = 2.0
# OAs per spatial patch that shares one planted subgroup.
PATCH_OAS = 12
# Within a patch: keep the patch subgroup, else a sibling in its supergroup, else any type.
PATCH_KEEP, SIBLING = 0.80, 0.12

# The OAC repository's centroid files already use the lookup's codes. A copy re-keyed
# through OAC_variables.csv's `encoding` column moved every variable; column i+1 of such a
# copy holds lookup variable _REKEYED[i]. The numbers are the variable table's `oac` codes.
_REKEYED = tuple(int(BY_CODE[code].oac[1:]) for code in ALL_CODES)


def region_slug(name: str) -> str:
    """`Liverpool City Region` -> `liverpool-city-region`."""
    return name.strip().lower().replace(" ", "-")


def load_regions(path: Path = REGIONS) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Region slug -> (name, LAD22CD codes) from a `region,LAD22CD` CSV."""
    df = pd.read_csv(path, dtype=str)
    if not {"region", "LAD22CD"} <= set(df.columns):
        raise ValueError(f"{path.name}: needs columns region, LAD22CD (found {', '.join(df.columns)})")
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name, rows in df.groupby("region", sort=False):
        out[region_slug(name)] = (name, tuple(rows["LAD22CD"].str.strip()))
    return out


def load_lad_catalogue(path: Path = LAD_CATALOGUE) -> pd.DataFrame:
    """LAD catalogue: code, name, centroid (BNG metres), area km², population, OA count, flags."""
    df = pd.read_csv(path, dtype={"LAD22CD": str, "LAD22NM": str})
    needed = [
        "LAD22CD",
        "LAD22NM",
        "easting",
        "northing",
        "area_km2",
        "population",
        "oa_count",
        "island",
        "synthetic",
    ]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {', '.join(missing)}")
    numbers = df[needed[2:]].apply(pd.to_numeric, errors="coerce")
    for i in df.index:
        line = i + 2  # the header is line 1
        if not re.fullmatch(r"[ENSW]\d{8}", str(df.at[i, "LAD22CD"])):
            raise ValueError(
                f"{path.name} line {line}: LAD22CD {df.at[i, 'LAD22CD']!r} is not a GSS code like E08000012"
            )
        for col in ("easting", "northing", "area_km2", "population", "oa_count"):
            if not numbers.at[i, col] > 0:
                raise ValueError(
                    f"{path.name} line {line}: {col} must be a positive number, got {df.at[i, col]!r}"
                )
        for col in ("island", "synthetic"):
            if numbers.at[i, col] not in (0, 1):
                raise ValueError(f"{path.name} line {line}: {col} must be 0 or 1, got {df.at[i, col]!r}")
        if not (numbers.at[i, "easting"] <= 700_000 and numbers.at[i, "northing"] <= 1_300_000):
            raise ValueError(
                f"{path.name} line {line}: centroid ({df.at[i, 'easting']}, {df.at[i, 'northing']}) "
                "is outside the British National Grid"
            )
    dupes = df["LAD22CD"][df["LAD22CD"].duplicated()]
    if len(dupes):
        raise ValueError(f"{path.name}: duplicate LAD22CD {', '.join(dupes)}")
    out = df[needed[:2]].join(numbers)
    return out.astype({"oa_count": int, "population": int, "island": bool, "synthetic": bool})


def _lookup_ordered(subgroups: pd.DataFrame) -> bool:
    # Few people live in communal establishments (v31); most subgroups are mostly White (v19).
    return bool(subgroups["v31"].median() < 0.2 and subgroups["v19"].median() > 0.9)


def oac_subgroup_centres(path: Path = CENTROIDS) -> pd.DataFrame:
    """OAC 2021 subgroup centres in the 0-1 transformed space. Shape (52, 60), index subgroup code."""
    df = pd.read_csv(path, dtype={"code": str})
    missing = [c for c in ("level", "code", *ALL_CODES) if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {', '.join(missing)}")
    sub = df[df["level"] == "subgroup"].set_index("code")[list(ALL_CODES)]
    if len(sub) != 52 or not sub.index.str.fullmatch(r"[1-8][a-c][1-4]").all():
        raise ValueError(f"{path.name}: expected the 52 OAC subgroups (1a1 ... 8b3), found {len(sub)} rows")
    bad = sub.index[(sub.isna() | (sub < 0) | (sub > 1)).any(axis=1)]
    if len(bad):
        raise ValueError(f"{path.name}: subgroup {bad[0]} has values outside [0, 1]")
    if not _lookup_ordered(sub):
        sub = sub.rename(columns={f"v{i + 1:02d}": f"v{j:02d}" for i, j in enumerate(_REKEYED)})[
            list(ALL_CODES)
        ]
        if not _lookup_ordered(sub):
            raise ValueError(f"{path.name}: columns follow neither the census lookup nor the OAC encoding")
    return sub


@dataclass(frozen=True)
class TypeModel:
    """The planted neighbourhood types: arrays over the 52 subgroups, variables in SAMPLED order."""

    codes: np.ndarray  # (52,) e.g. '3a1'
    centres: np.ndarray  # (52, 57) transformed values
    urbanity: np.ndarray  # (52,) density level of the centre, 0 (rural) .. 1 (densest)
    diversity: np.ndarray  # (52,) standardised share not White
    prior: np.ndarray  # (52,) planting weights, sum 1
    share: np.ndarray  # (52,) England & Wales share, sum 1
    urban_slope: np.ndarray  # (57,) change of each centre per unit of urbanity, across subgroups

    @property
    def supergroups(self) -> np.ndarray:
        return np.array([c[0] for c in self.codes])

    @property
    def groups(self) -> np.ndarray:
        return np.array([c[:2] for c in self.codes])


def type_model(supergroups: tuple[str, ...] | None = None) -> TypeModel:
    """Subgroup centres and priors; supergroups limits the types planted (e.g. ('1', '3', '4'))."""
    centres = oac_subgroup_centres()
    codes = centres.index.to_numpy()
    sg = np.array([c[0] for c in codes])
    if supergroups is not None:
        unknown = sorted(set(map(str, supergroups)) - set(sg))
        if unknown:
            raise ValueError(f"unknown supergroups {', '.join(unknown)}; OAC 2021 has 1-8")
    per_sg = pd.Series(sg).value_counts()
    prior = np.array([SUPERGROUP_PRIOR[s] / per_sg[s] for s in sg])
    share = np.array([SUPERGROUP_SHARE[s] / per_sg[s] for s in sg])
    if supergroups is not None:
        prior = prior * np.isin(sg, [str(s) for s in supergroups])
    density = centres["v01"].to_numpy()
    urbanity = (density - density.min()) / (density.max() - density.min())
    values = centres[list(SAMPLED)].to_numpy()
    slope = ((urbanity - urbanity.mean()) @ (values - values.mean(axis=0))) / (
        (urbanity - urbanity.mean()) ** 2
    ).sum()
    non_white = 1 - centres["v19"].to_numpy()
    return TypeModel(
        codes=codes,
        centres=values,
        urbanity=urbanity,
        urban_slope=slope,
        diversity=(non_white - non_white.mean()) / non_white.std(),
        prior=prior / prior.sum(),
        share=share / share.sum(),
    )


def urbanity_of(density: np.ndarray) -> np.ndarray:
    """Residents per km² -> 0 (100 or fewer) .. 1 (20,000 or more), log scale."""
    return np.clip((np.log10(np.maximum(density, 1e-3)) - 2.0) / 2.3, 0.0, 1.0)


def diversity_context(code: str, population: float, area_km2: float) -> float:
    """How ethnically diverse a LAD's types lean: London 1, big English cities 0.6 .. Northern Ireland 0.05."""
    if code.startswith("E09"):
        return 1.0
    if code.startswith("E"):
        return 0.6 if population / area_km2 > 2500 else 0.35
    return 0.05 if code.startswith("N") else 0.15


def subgroup_probabilities(model: TypeModel, urbanity: np.ndarray, context: float) -> np.ndarray:
    """P(subgroup | OA urbanity, LAD diversity context). urbanity (m,) -> (m, 52), rows sum to 1."""
    fit = np.exp(-0.5 * ((urbanity[:, None] - model.urbanity[None, :]) / URBANITY_WIDTH) ** 2)
    lean = np.exp(DIVERSITY_LEAN * (context - 0.35) * np.clip(model.diversity, -1.5, 1.5))
    p = model.prior * lean * (fit + 1e-6)
    return p / p.sum(axis=1, keepdims=True)


def _draw(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One column index per row of p (m, k), with probability proportional to the row."""
    c = p.cumsum(axis=1)
    r = rng.random((len(p), 1)) * c[:, -1:]
    return (c <= r).sum(axis=1).clip(max=p.shape[1] - 1)


def plant_subgroups(
    model: TypeModel,
    seeds: np.ndarray,
    urbanity: np.ndarray,
    context: float,
    rng: np.random.Generator,
    patch_oas: float = PATCH_OAS,
) -> np.ndarray:
    """Subgroup index per OA, in spatial patches of about patch_oas OAs.

    seeds (n, 2) metres, urbanity (n,). Returns (n,) indices into model.codes.
    """
    n = len(seeds)
    m = min(n, max(1, round(n / max(patch_oas, 1.0))))
    patch_of = cKDTree(seeds[rng.choice(n, m, replace=False)]).query(seeds)[1]
    patch_u = pd.Series(urbanity).groupby(patch_of).median().reindex(range(m)).fillna(0.5).to_numpy()
    patch_type = _draw(subgroup_probabilities(model, patch_u, context), rng)[patch_of]
    own = subgroup_probabilities(model, urbanity, context)
    sg = model.supergroups
    sibling = own * (sg[None, :] == sg[patch_type][:, None])
    sibling = _draw(sibling / sibling.sum(axis=1, keepdims=True), rng)
    anyone = _draw(own, rng)
    r = rng.random(n)
    return np.where(r < PATCH_KEEP, patch_type, np.where(r < PATCH_KEEP + SIBLING, sibling, anyone))


def noise_sd(model: TypeModel, noise: float) -> np.ndarray:
    """Within-type spread per sampled variable, shape (57,): noise × the variable's spread
    across subgroups relative to the average variable's.

    The spread is the smaller of the standard deviation and the scaled median absolute
    deviation, so that a few outlying subgroups (students on `same address a year ago`)
    do not blur every OA of a variable whose types sit close together. It is capped at
    twice the average: the variables that define the types (flats, tenure) vary a lot
    between types, not as much within one.
    """
    c = model.centres
    mad = 1.4826 * np.median(np.abs(c - np.median(c, axis=0)), axis=0)
    spread = np.minimum(c.std(axis=0), mad)
    return noise * np.minimum(spread / spread.mean(), 2.0)


def close_groups(x: np.ndarray) -> np.ndarray:
    """Rescale shares that partition a population to their total, cap the others. x (n, 56) %, PERCENTAGES order."""
    x = x.copy()
    col = {v: i for i, v in enumerate(PERCENTAGES)}
    for members, total in PARTITIONS.items():
        idx = [col[v] for v in members]
        s = x[:, idx].sum(axis=1, keepdims=True)
        x[:, idx] = np.where(s > 0, x[:, idx] * total / np.where(s > 0, s, 1), total / len(idx))
    for members, cap in CAPPED.items():
        idx = [col[v] for v in members]
        s = x[:, idx].sum(axis=1, keepdims=True)
        x[:, idx] = x[:, idx] * np.minimum(1.0, cap / np.where(s > 0, s, 1))
    return x


@dataclass(frozen=True)
class Inverse:
    """Transformed value t in [0, 1] -> % = sinh(offset + slope · t), clipped to 0-100, per
    percentage variable (56,, PERCENTAGES order); sir_centre: the national median t of v42."""

    offset: np.ndarray
    slope: np.ndarray
    sir_centre: float = 0.0

    def percentages(self, t: np.ndarray) -> np.ndarray:
        """t (n, 56) in PERCENTAGES order -> % (n, 56), groups of one population closed."""
        return close_groups(np.clip(np.sinh(self.offset + self.slope * t), 0.0, 100.0))

    def illness_ratio(self, t: np.ndarray, population: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Standardised Illness Ratio per OA, shape (n,), >= 0, about 100 at the national median.

        t (n,) transformed v42, population (n,) residents, u (n,) uniforms in [0, 1) that
        fix the Poisson draw of the observed count (inverse CDF, so a LAD's values do not
        depend on which other LADs are generated).
        """
        expected = EXPECTED_DISABLED * np.asarray(population, dtype=np.float64)
        level = np.exp(SIR_SLOPE * (np.asarray(t) - self.sir_centre))
        observed = poisson.ppf(u, expected * level)
        return 100.0 * observed / expected


@functools.lru_cache(maxsize=8)
def calibrated_inverse(noise: float = DEFAULT_NOISE) -> Inverse:
    """The inverse whose mean over an England & Wales mix of types hits NATIONAL_MEAN.

    Each variable maps t = 1 to 100 % (TOP for a few) and its calibrated offset (asinh of the national
    minimum, negative where many OAs have none) is found by bisection; the within-type
    noise is integrated by Gauss-Hermite quadrature.
    """
    model = type_model()
    sd = noise_sd(model, noise)
    pct = [SAMPLED.index(v) for v in PERCENTAGES]
    nodes, node_w = np.polynomial.hermite_e.hermegauss(24)
    t_q = np.clip(model.centres[:, None, :] + nodes[None, :, None] * sd, 0, 1).reshape(-1, len(SAMPLED))
    w_q = (model.share[:, None] * node_w / node_w.sum()).ravel()
    # Closing the groups couples variables: a joint sample measures how much it moves the means.
    rng = np.random.default_rng(2021)
    per = 40
    t_joint = np.clip(
        np.repeat(model.centres, per, axis=0) + rng.normal(size=(len(model.codes) * per, len(SAMPLED))) * sd,
        0,
        1,
    )
    w_joint = np.repeat(model.share / per, per)
    sir_t = t_joint[:, SAMPLED.index(SIR_CODE)]
    order = np.argsort(sir_t)
    sir_centre = float(sir_t[order][np.searchsorted(np.cumsum(w_joint[order]), 0.5 * w_joint.sum())])
    t_q, t_joint = t_q[:, pct], t_joint[:, pct]
    goal = np.array([NATIONAL_MEAN[v] for v in PERCENTAGES])
    top = np.arcsinh([TOP.get(v, 100.0) for v in PERCENTAGES])
    aim = goal.copy()
    for _ in range(3):
        lo, hi = np.full(len(goal), -10.0), top.copy()
        for _ in range(40):
            mid = (lo + hi) / 2
            below = w_q @ np.clip(np.sinh(mid + (top - mid) * t_q), 0, 100) < aim
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        inverse = Inverse(offset=lo, slope=top - lo, sir_centre=sir_centre)
        raw = w_joint @ np.clip(np.sinh(inverse.offset + inverse.slope * t_joint), 0, 100)
        aim = goal * raw / np.maximum(w_joint @ inverse.percentages(t_joint), 1e-9)
    return inverse


def oa_populations(n: int, mean: float, rng: np.random.Generator, shape: float = 6.0) -> np.ndarray:
    """Usual residents per OA, integers in 100-600 averaging about mean. Shape (n,)."""
    excess = max(mean, 110.0) - 100.0
    return np.clip(np.rint(100 + rng.gamma(shape, excess / shape, n)), 100, 600).astype(np.int64)


@dataclass
class SampleCensus:
    """A generated release in memory: census table, population, OA and LAD polygons, planted truth."""

    variables: pd.DataFrame  # index OA, VARIABLES columns, float64, 2 decimals
    population: pd.Series  # index OA, int
    oa: gpd.GeoDataFrame  # OA, geometry
    lad: gpd.GeoDataFrame  # LAD22CD, LAD22NM, geometry
    truth: pd.DataFrame  # OA, LAD22CD, planted_supergroup, planted_group, planted_subgroup
    regions: tuple[str, ...]  # region slugs, or ("uk",)
    skipped_lads: tuple[str, ...]


def _selected_lads(
    catalogue: pd.DataFrame, regions, uk: bool
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    if uk:
        if regions:
            raise ValueError("give either regions or uk=True, not both")
        return catalogue, ("uk",), ()
    slugs = (regions,) if isinstance(regions, str) else tuple(regions) if regions else (DEFAULT_REGION,)
    known = load_regions()
    codes: list[str] = []
    for slug in slugs:
        if slug not in known:
            raise KeyError(f"unknown region {slug!r}; known regions: {', '.join(sorted(known))}")
        codes += [c for c in known[slug][1] if c not in codes]
    skipped = tuple(c for c in codes if c not in set(catalogue["LAD22CD"]))
    if skipped:
        warnings.warn(
            f"{REGIONS.name}: {', '.join(skipped)} are not LAD codes of December 2022 "
            f"(absent from {LAD_CATALOGUE.name}); no OAs generated for them",
            stacklevel=3,
        )
    return catalogue[catalogue["LAD22CD"].isin(codes)], slugs, skipped


# First number of each nation's OA code series (the letter is the LAD code's).
FIRST_OA_NUMBER = {"E": 1, "W": 1, "S": 88_956, "N": 20_000_001}


def _oa_code_starts(catalogue: pd.DataFrame, counts: np.ndarray) -> np.ndarray:
    """First OA number of each LAD, numbered per nation over the whole catalogue so that a
    LAD's codes do not depend on which regions are generated. Each nation's codes follow its
    real series: E00000001.., W00000001.., Scotland's 2022 OAs from S00088956, Northern
    Ireland's 2021 Data Zones from N20000001."""
    nation = catalogue["LAD22CD"].str[0].to_numpy()
    starts = np.zeros(len(catalogue), dtype=np.int64)
    for letter in np.unique(nation):
        mask = nation == letter
        offset = FIRST_OA_NUMBER.get(letter, 1) - 1
        starts[mask] = offset + 1 + np.concatenate([[0], np.cumsum(counts[mask])[:-1]])
    return starts


@functools.lru_cache(maxsize=1)
def catalogue_polygons() -> tuple[pd.DataFrame, np.ndarray]:
    """The LAD catalogue and its polygons (EPSG:27700), one per row; computed once per process."""
    cat = load_lad_catalogue()
    geoms = lad_boundaries(
        cat["easting"], cat["northing"], cat["area_km2"], cat["island"], cat["LAD22CD"].str.startswith("N")
    )
    return cat, geoms


class _LadPart(NamedTuple):
    code: str
    oa_codes: list[str]
    cells: np.ndarray  # (n,) polygons
    population: np.ndarray  # (n,) residents
    density: np.ndarray  # (n,) residents per km²
    subgroup: np.ndarray  # (n,) index into the type model
    t: np.ndarray  # (n, 57) transformed values
    illness_u: np.ndarray  # (n,) uniforms that fix the Poisson draw of the SIR's observed count


def _generate_lad(
    row: pd.Series,
    polygon,
    n: int,
    first_code: int,
    model: TypeModel,
    sd: np.ndarray,
    gradient: float,
    seed: int,
) -> _LadPart:
    """One LAD's OAs: polygons, population, planted subgroup and transformed variables.

    Types follow the settlement's expected density at full scale rather than each polygon's
    own, so a scaled-down sample keeps the national mix of types.
    """
    code = row["LAD22CD"]
    # Seeded by LAD code: a LAD comes out the same in a regional and a national run.
    rng = np.random.default_rng([seed, zlib.crc32(code.encode())])
    full_n = int(row["oa_count"])
    settlement = plan_settlement(polygon, full_n, (row["easting"], row["northing"]), rng, row["area_km2"])
    drawn = settlement.sample(polygon, n, rng)
    seeds, cells = relaxed_partition(polygon, drawn)
    order = np.lexsort((seeds[:, 0], -np.floor(seeds[:, 1] / 2000)))  # codes run north to south
    drawn, seeds, cells = drawn[order], seeds[order], cells[order]
    mean_pop = row["population"] / full_n
    pop = oa_populations(n, mean_pop, rng, shape=20.0 if code[0] == "N" else 6.0)
    density = pop / (shapely.area(cells) / 1e6)
    context = diversity_context(code, row["population"], row["area_km2"])
    # Where the seed was drawn, not where relaxation moved it: in a thinned sample the
    # cells are large and their centres drift away from the towns.
    urbanity = urbanity_of(mean_pop * settlement.oas_per_km2(drawn, full_n))
    # A thinned sample keeps the patches' extent on the ground, so fewer OAs per patch.
    sub = plant_subgroups(model, seeds, urbanity, context, rng, patch_oas=PATCH_OAS * n / full_n)
    # Within a type, a denser OA than the type's usual leans towards the denser types' values.
    lean = gradient * (urbanity - model.urbanity[sub])[:, None] * model.urban_slope[None, :]
    t = np.clip(model.centres[sub] + lean + rng.normal(size=(n, len(SAMPLED))) * sd, 0.0, 1.0)
    oa_codes = [f"{code[0]}{k:08d}" for k in range(first_code, first_code + n)]
    return _LadPart(code, oa_codes, cells, pop, density, sub, t, rng.random(n))


def _check_kinds() -> None:
    """The generator draws each kind its own way: the variable table must hold the kinds it knows."""
    found = {kind: codes_of_kind(kind) for kind in (DENSITY, RATIO)}
    if found != {DENSITY: (DENSITY_CODE,), RATIO: (SIR_CODE,)}:
        raise ValueError(
            f"the sample generator draws density {DENSITY_CODE} and ratio {SIR_CODE} only; "
            f"geodem_assets.variables now has {found}"
        )


def build_sample_census(
    regions=None,
    uk: bool = False,
    seed: int = 0,
    *,
    noise: float = DEFAULT_NOISE,
    scale: float = 1.0,
    supergroups=None,
) -> SampleCensus:
    """Generate the release in memory; arguments as write_sample_census."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise}")
    catalogue, polygons = catalogue_polygons()
    counts = np.maximum(1, np.rint(catalogue["oa_count"].to_numpy() * scale)).astype(np.int64)
    starts = _oa_code_starts(catalogue, counts)
    chosen, slugs, skipped = _selected_lads(catalogue, regions, uk)
    if chosen.empty:
        raise ValueError("no LADs selected: nothing to generate")
    model = type_model(tuple(map(str, supergroups)) if supergroups is not None else None)
    sd = noise_sd(model, noise)
    parts = [
        _generate_lad(
            catalogue.loc[i],
            polygons[i],
            int(counts[i]),
            int(starts[i]),
            model,
            sd,
            URBAN_GRADIENT * min(1.0, noise / DEFAULT_NOISE),
            seed,
        )
        for i in chosen.index
    ]
    oa_codes = np.concatenate([p.oa_codes for p in parts])
    lad_of = np.concatenate([[p.code] * len(p.oa_codes) for p in parts])
    _check_kinds()
    inverse = calibrated_inverse(noise)
    t = np.concatenate([p.t for p in parts])
    population = np.concatenate([p.population for p in parts])
    v = pd.DataFrame(
        inverse.percentages(t[:, [SAMPLED.index(c) for c in PERCENTAGES]]),
        columns=list(PERCENTAGES),
        index=pd.Index(oa_codes, name="OA"),
    )
    v[DENSITY_CODE] = np.concatenate([p.density for p in parts])
    v[SIR_CODE] = inverse.illness_ratio(
        t[:, SAMPLED.index(SIR_CODE)], population, np.concatenate([p.illness_u for p in parts])
    )
    v = v[list(VARIABLES)]
    # NISRA publishes no Bangladeshi counts, so the variable is empty for Northern Ireland.
    v.loc[pd.Series(lad_of).str.startswith("N").to_numpy(), "v12"] = 0.0
    v = v.astype(np.float64).round(2)
    sub = np.concatenate([p.subgroup for p in parts])
    truth = pd.DataFrame(
        {
            "OA": oa_codes,
            "LAD22CD": lad_of,
            "planted_supergroup": model.supergroups[sub],
            "planted_group": model.groups[sub],
            "planted_subgroup": model.codes[sub],
        }
    )
    oa = gpd.GeoDataFrame({"OA": oa_codes}, geometry=np.concatenate([p.cells for p in parts]), crs=BNG)
    lad = gpd.GeoDataFrame(
        {"LAD22CD": chosen["LAD22CD"].to_numpy(), "LAD22NM": chosen["LAD22NM"].to_numpy()},
        geometry=polygons[chosen.index.to_numpy()],
        crs=BNG,
    )
    population = pd.Series(population, index=v.index, name="uk001001")
    return SampleCensus(
        variables=v, population=population, oa=oa, lad=lad, truth=truth, regions=slugs, skipped_lads=skipped
    )


@dataclass(frozen=True)
class SampleSummary:
    """What write_sample_census produced, and how long it took."""

    out_dir: Path
    regions: tuple[str, ...]
    oas: int
    lads: int
    population: int
    seed: int
    noise: float
    scale: float
    seconds: float
    skipped_lads: tuple[str, ...] = ()
    detail: bool = False

    def __str__(self) -> str:
        skipped = f"; skipped unknown LADs {', '.join(self.skipped_lads)}" if self.skipped_lads else ""
        return (
            f"synthetic census in {self.out_dir}: {self.oas:,} OAs in {self.lads} LADs "
            f"({', '.join(self.regions)}), {self.population:,} residents, seed {self.seed}, "
            f"noise {self.noise}, scale {self.scale}{', detailed boundaries' if self.detail else ''}, "
            f"{self.seconds:.1f} s{skipped}"
        )


def write_sample_census(
    out_dir,
    regions=None,
    uk: bool = False,
    seed: int = 0,
    *,
    noise: float = DEFAULT_NOISE,
    scale: float = 1.0,
    supergroups=None,
    detail: bool = False,
) -> SampleSummary:
    """Write out_dir/input_data/ (the five release files), planted_truth.csv and SAMPLE_README.txt.

    regions: region slugs of regions.csv (default liverpool-city-region); uk=True: every
    LAD of the UK (about 239,000 OAs). noise: within-type spread in the transformed space
    (0.1 is about as mixed as real census types; 0.03 makes them easy to recover).
    scale: multiplies every LAD's OA count. supergroups: plant only these OAC supergroups.
    detail: densify and roughen the boundaries like real generalised ones (sample_data.detail).
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    sample = build_sample_census(regions, uk, seed, noise=noise, scale=scale, supergroups=supergroups)
    if detail:
        from sample_data.detail import detailed_sample

        sample = detailed_sample(sample, seed)
    inputs = out_dir / "input_data"
    inputs.mkdir(parents=True, exist_ok=True)
    for stale in [*inputs.glob("Local_Authority_Districts_*.gpkg"), inputs / OA_FILE]:
        stale.unlink(missing_ok=True)
    sample.variables.to_parquet(inputs / "uk_census_data.parquet")
    shutil.copyfile(LOOKUP, inputs / "census_variable_lookup.csv")
    sample.oa.to_file(inputs / OA_FILE, layer=Path(OA_FILE).stem, driver="GPKG", promote_to_multi=True)
    sample.lad.to_file(inputs / LAD_FILE, layer=Path(LAD_FILE).stem, driver="GPKG", promote_to_multi=True)
    sample.population.rename_axis("OA").reset_index().to_csv(inputs / "oa_pop_data.csv", index=False)
    sample.truth.to_csv(out_dir / "planted_truth.csv", index=False)
    summary = SampleSummary(
        out_dir=out_dir,
        regions=sample.regions,
        oas=len(sample.variables),
        lads=len(sample.lad),
        population=int(sample.population.sum()),
        seed=seed,
        noise=noise,
        scale=scale,
        seconds=time.perf_counter() - started,
        skipped_lads=sample.skipped_lads,
        detail=detail,
    )
    (out_dir / "SAMPLE_README.txt").write_text(_readme(summary, supergroups), encoding="utf-8")
    return summary


_DETAIL_NOTE = """
- Detailed boundaries (--detail): edges shared by two OAs are densified and roughened
  once, so both neighbours hold the same vertices (tens to thousands per OA, like
  generalised boundaries); the outline is only densified. LAD polygons are the union of
  their OAs, and v01 uses the detailed areas."""


def _readme(s: SampleSummary, supergroups) -> str:
    types = (
        f"supergroups {', '.join(map(str, supergroups))} only"
        if supergroups is not None
        else "all 52 subgroups"
    )
    return f"""SYNTHETIC DATA - NOT THE UK CENSUS

This folder imitates the layout of the census release used for UK geodemographic
classification: input_data/ with uk_census_data.parquet, census_variable_lookup.csv,
OA_2021_22_Boundaries.gpkg, oa_pop_data.csv and
{LAD_FILE}.
Every number and polygon in it is invented; only the LAD codes and names are real.

Contents: {s.oas:,} Output Areas in {s.lads} Local Authority Districts ({", ".join(s.regions)}),
{s.population:,} usual residents. Generated with seed {s.seed}, noise {s.noise}, scale {s.scale}.

How it was made
- LAD polygons: a Voronoi partition of approximate LAD centroids (sample_data/lads.csv)
  clipped to the Natural Earth 1:110m outline of the UK; islands are discs of their area.
  Positions are roughly right; shapes and areas are not.
- OA polygons: a Voronoi partition of each LAD around seed points crowded into towns, so OA
  areas run from about a hectare to many km². OA codes are invented in each nation's real
  series (E00…, W00…, Scotland's S00… from S00088956, Northern Ireland's Data Zones N20…).{_DETAIL_NOTE if s.detail else ""}
- Population: 100-600 usual residents per OA (oa_pop_data.csv, uk001001); v01 is that
  population divided by the polygon's area in km².
- v42 is a Standardised Illness Ratio, not a percentage: 100 x a Poisson count of disabled
  residents over its expected value (about 100 at the median, some OAs 0, a few above 300).
- Neighbourhood types of the UK OAC 2021 (Wyszomierski et al. 2024; {types}) are
  planted in spatial patches: dense cores get urban types, rural edges rural ones, London leans to its
  ethnically diverse types. Each OA's variables are drawn around its subgroup's published
  centre (arcsinh, range-scaled space) with noise, then mapped back to percentages by a
  per-variable inverse calibrated on England & Wales 2021 figures (v42 as above). v12 (Bangladeshi) is 0
  in Northern Ireland, as in the real release.
- planted_truth.csv (outside input_data/) gives each OA's planted supergroup, group and
  subgroup, for checking what a classification recovers.

The same seed and arguments give the same files: sample_data.census.write_sample_census.
"""
