"""Synthetic boundaries in British National Grid (metres): LADs partition a coarse UK outline,
OAs partition each LAD, both as Voronoi diagrams clipped to the parent polygon."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

NATURALEARTH_COUNTRIES = Path(__file__).parent / "naturalearth" / "naturalearth_lowres_countries.gpkg"
BNG = "EPSG:27700"
# Area per OA at the heart of a town, km²: sets how steeply OA seeds crowd towards a centre.
CORE_AREA_KM2 = 0.03
# Share of a rural LAD's OAs that cluster around towns; the rest spread evenly over the LAD.
TOWN_SHARE = 0.7
# One secondary town per this many km² of LAD, on average.
KM2_PER_TOWN = 250.0


def uk_land() -> tuple[BaseGeometry, BaseGeometry]:
    """Great Britain and Northern Ireland land outlines (Natural Earth 1:110m), EPSG:27700 metres."""
    import geopandas as gpd

    countries = gpd.read_file(NATURALEARTH_COUNTRIES)
    uk = countries[countries["iso_a3"] == "GBR"]
    if uk.empty:
        raise ValueError(f"{NATURALEARTH_COUNTRIES.name}: no row with iso_a3 GBR")
    parts = sorted(shapely.get_parts(uk.to_crs(BNG).geometry.iloc[0]), key=lambda g: g.area, reverse=True)
    if len(parts) < 2:
        raise ValueError(
            f"{NATURALEARTH_COUNTRIES.name}: the GBR outline should have two parts, "
            "Great Britain and Northern Ireland"
        )
    return parts[0], parts[1]


def voronoi_partition(region: BaseGeometry, points: np.ndarray) -> np.ndarray:
    """Voronoi cells of points clipped to region; cell i holds points[i].

    points: (n, 2) metres, distinct, inside region. Returns (n,) shapely geometries whose
    union is region and whose interiors are disjoint.
    """
    points = np.asarray(points, dtype=float)
    n = len(points)
    if n == 0:
        return np.empty(0, dtype=object)
    if n == 1:
        return np.array([region], dtype=object)
    if len(np.unique(points, axis=0)) != n:
        raise ValueError("voronoi_partition: duplicate seed points")
    frame = shapely.box(*region.bounds).buffer(1000.0)
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
    cells = shapely.get_parts(diagram)
    shapely.prepare(region)
    inside = shapely.contains(region, cells)
    cells = cells.copy()
    edge = ~inside
    cells[edge] = _polygonal(shapely.intersection(cells[edge], region))
    return cells


def relaxed_partition(region: BaseGeometry, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Lloyd step: move each seed to its cell's centre, then partition again.

    Random seeds give some needle-thin or tiny cells; real OAs are more even. points (n, 2)
    metres. Returns the moved points (n, 2) and their cells (n,).
    """
    cells = voronoi_partition(region, points)
    moved = shapely.get_coordinates(shapely.centroid(cells))
    outside = ~shapely.contains_xy(region, moved[:, 0], moved[:, 1])
    moved[outside] = shapely.get_coordinates(shapely.point_on_surface(cells[outside]))
    if len(np.unique(moved, axis=0)) < len(moved):
        return points, cells
    return moved, voronoi_partition(region, moved)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Drop the line and point debris an intersection can leave next to polygons."""
    out = np.asarray(geoms, dtype=object).copy()
    kinds = shapely.get_type_id(out)
    for i in np.flatnonzero(kinds == 7):  # GeometryCollection
        polys = [p for p in shapely.get_parts(out[i]) if shapely.get_type_id(p) in (3, 6)]
        out[i] = shapely.union_all(polys) if polys else shapely.Polygon()
    return out


def lad_boundaries(
    easting: np.ndarray,
    northing: np.ndarray,
    area_km2: np.ndarray,
    island: np.ndarray,
    northern_ireland: np.ndarray,
) -> np.ndarray:
    """LAD polygons around catalogue centroids: a Voronoi partition of each land mass.

    All arrays (n,). Islands get a disc of their catalogue area that takes precedence over
    the mainland; mainland centroids that the coarse coastline leaves at sea get a disc
    reaching the land. Returns (n,) geometries, EPSG:27700 metres, without overlaps.
    """
    easting, northing = np.asarray(easting, float), np.asarray(northing, float)
    area_km2, island = np.asarray(area_km2, float), np.asarray(island, bool)
    northern_ireland = np.asarray(northern_ireland, bool)
    gb, ni = uk_land()
    out = np.empty(len(easting), dtype=object)
    for land, members in ((gb, ~northern_ireland), (ni, northern_ireland)):
        idx = np.flatnonzero(members)
        if len(idx):
            out[idx] = _land_mass_lads(land, easting[idx], northing[idx], area_km2[idx], island[idx])
    for i, geom in enumerate(out):
        if not shapely.contains_xy(geom, easting[i], northing[i]):
            raise ValueError(
                f"LAD catalogue row {i}: centroid ({easting[i]:.0f}, {northing[i]:.0f}) "
                "falls outside its own polygon; move it inland or mark it as an island"
            )
    return out


def _land_mass_lads(land, e, n, area_km2, island) -> np.ndarray:
    points = np.column_stack([e, n])
    radius = np.sqrt(area_km2 * 1e6 / np.pi)
    out = np.empty(len(e), dtype=object)
    islands = np.flatnonzero(island)
    island_union = shapely.Polygon()
    if len(islands):
        discs = shapely.buffer(shapely.points(points[islands]), radius[islands])
        reach = shapely.union_all(discs)
        cells = voronoi_partition(reach, points[islands])
        out[islands] = _polygonal(shapely.intersection(cells, discs))
        island_union = shapely.union_all(out[islands])
    mainland = np.flatnonzero(~island)
    pts = shapely.points(points[mainland])
    offshore = ~shapely.contains(land, pts)
    gap = shapely.distance(land, pts[offshore])
    reach_r = np.maximum(0.6 * radius[mainland][offshore], gap + 1500.0)
    mask = shapely.union_all([land, *shapely.buffer(pts[offshore], reach_r)])
    mask = shapely.difference(mask, island_union)
    out[mainland] = voronoi_partition(mask, points[mainland])
    return out


def sample_in(
    region: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    centre: tuple[float, float] | None = None,
    sigma: float | None = None,
) -> np.ndarray:
    """n points inside region: uniform, or Gaussian around centre (sigma metres) truncated to region.

    Returns (n, 2) metres.
    """
    if n <= 0:
        return np.empty((0, 2))
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    got: list[np.ndarray] = []
    need, tries = n, 0
    while need > 0:
        tries += 1
        draw = max(64, 2 * need)
        if centre is not None and tries <= 20:
            cand = rng.normal(centre, sigma, size=(draw, 2))
        else:  # a centre on a thin sliver of land rejects most draws: fall back to uniform
            cand = np.column_stack([rng.uniform(minx, maxx, draw), rng.uniform(miny, maxy, draw)])
        keep = cand[shapely.contains_xy(region, cand[:, 0], cand[:, 1])][:need]
        got.append(keep)
        need -= len(keep)
        if tries > 10_000:
            raise ValueError(f"sample_in: cannot place {n} points in a region of {region.area:.1f} m²")
    return np.concatenate(got)


@dataclass(frozen=True)
class Settlement:
    """Where a LAD's OAs crowd: town centres with Gaussian spreads, plus an even spread.

    centres (k, 2) and sigmas (k,) in metres; shares (k,) of the OAs per town; spread_share
    of the OAs spread evenly over a polygon of area_km2.
    """

    centres: np.ndarray
    sigmas: np.ndarray
    shares: np.ndarray
    spread_share: float
    area_km2: float

    def oas_per_km2(self, points: np.ndarray, n_oas: int) -> np.ndarray:
        """Expected OAs per km² at points (m, 2) for a LAD of n_oas OAs. Shape (m,)."""
        d2 = ((points[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2) / 1e6
        s2 = (self.sigmas / 1000.0) ** 2
        towns = (self.shares * np.exp(-0.5 * d2 / s2) / (2 * np.pi * s2)).sum(axis=1)
        return n_oas * ((1 - self.spread_share) * towns + self.spread_share / self.area_km2)

    def sample(self, lad: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
        """n distinct seed points inside lad. Shape (n, 2) metres."""
        # Drawn, not rounded: a small sample keeps the same share of town and country seeds.
        counts = rng.multinomial(n, np.append((1 - self.spread_share) * self.shares, self.spread_share))
        parts = [
            sample_in(lad, int(k), rng, centre=tuple(c), sigma=s)
            for c, s, k in zip(self.centres, self.sigmas, counts[:-1])
        ]
        parts.append(sample_in(lad, int(counts[-1]), rng))
        seeds = np.concatenate(parts)
        # Coincident seeds would merge two OAs; nudge the rare repeats by a metre.
        while len(np.unique(seeds, axis=0)) < n:
            seeds = seeds + rng.normal(0.0, 1.0, size=seeds.shape) * _duplicated_rows(seeds)[:, None]
        return seeds


def plan_settlement(
    lad: BaseGeometry,
    n_oas: int,
    anchor: tuple[float, float],
    rng: np.random.Generator,
    settled_km2: float | None = None,
) -> Settlement:
    """Towns of a LAD with n_oas OAs: the anchor town and a few smaller ones.

    Every OA holds a similar population, so the crowding makes OAs range from about a
    hectare at a town centre to many km² at the rural edge. settled_km2 is the LAD's real
    area: where the polygon is larger (a city among rural neighbours), few OAs go to the
    surplus.
    """
    area_km2 = lad.area / 1e6
    settled = min(area_km2, settled_km2 if settled_km2 else area_km2)
    if not shapely.contains_xy(lad, *anchor):
        anchor = tuple(shapely.get_coordinates(shapely.point_on_surface(lad))[0])
    extra = min(12, int(rng.poisson(settled / KM2_PER_TOWN)))
    centres = np.vstack([np.asarray(anchor, float)[None, :], sample_in(lad, extra, rng)])
    if extra:
        w0 = rng.uniform(0.45, 0.7)
        shares = np.concatenate([[w0], (1 - w0) * rng.dirichlet(np.full(extra, 1.5))])
    else:
        shares = np.array([1.0])
    spread_share = (1 - TOWN_SHARE) * settled / area_km2
    sigma_km = np.minimum(
        np.sqrt((1 - spread_share) * n_oas * shares * CORE_AREA_KM2 / (2 * np.pi)), np.sqrt(settled) / 3
    )
    return Settlement(
        centres=centres,
        sigmas=np.maximum(sigma_km, 0.05) * 1000.0,
        shares=shares,
        spread_share=spread_share,
        area_km2=area_km2,
    )


def _duplicated_rows(points: np.ndarray) -> np.ndarray:
    _, first = np.unique(points, axis=0, return_index=True)
    dup = np.ones(len(points), dtype=bool)
    dup[first] = False
    return dup
