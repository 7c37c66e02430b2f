"""Build the vendored 1:10m country layer from world-atlas's TopoJSON.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    pip install pycountry        # build time only, not a dependency of the project
    python -m sample_data.naturalearth.build_10m package/countries-10m.json

Source: the npm package ``world-atlas`` 2.0.2 (ISC licence, M. Bostock), file
``countries-10m.json``: Natural Earth admin-0 countries at 1:10m (public domain), as TopoJSON
with ``name`` (Natural Earth ``NAME``) and ``id`` (ISO 3166-1 numeric, ``ISO_N3``), quantised
to 10^5 steps per axis (0.0036 deg of longitude, 0.0017 deg of latitude). This script adds the
ISO 3166-1 alpha-3 code from the numeric code (pycountry); units without an ISO numeric code
(and Ashmore and Cartier Is., which shares Australia's) get Natural Earth's own ``ADM0_A3``
code from ``NO_ISO_CODE`` (Kosovo gets XKX, as the 1:110m layer does). The output, a GeoPackage
with columns ``name, iso_n3, iso_a3, geometry`` in EPSG:4326, is written to
``naturalearth_10m_countries.gpkg`` beside this file unless ``--out`` says otherwise.
The same input always gives the same rows in the same order (sorted by name).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity

OUT = Path(__file__).resolve().parent / "naturalearth_10m_countries.gpkg"
# Natural Earth ADM0_A3 codes of the units that have no ISO 3166-1 numeric code of their own.
NO_ISO_CODE = {
    "Akrotiri": "WSB",
    "Ashmore and Cartier Is.": "ATC",
    "Baikonur": "KAB",
    "Bajo Nuevo Bank": "BJN",
    "Clipperton I.": "CLP",
    "Coral Sea Is.": "CSI",
    "Cyprus U.N. Buffer Zone": "CNM",
    "Dhekelia": "ESB",
    "Indian Ocean Ter.": "IOA",
    "Kosovo": "XKX",
    "N. Cyprus": "CYN",
    "Scarborough Reef": "SCR",
    "Serranilla Bank": "SER",
    "Siachen Glacier": "KAS",
    "Somaliland": "SOL",
    "Spratly Is.": "PGA",
    "USNB Guantanamo Bay": "USG",
}


def alpha3_codes(names, numeric) -> list[str]:
    """ISO 3166-1 alpha-3 code of each (name, numeric code); ``NO_ISO_CODE`` first.

    Raises ValueError naming the unit when neither gives a code.
    """
    import pycountry

    out = []
    for name, n3 in zip(names, numeric):
        if name in NO_ISO_CODE:
            out.append(NO_ISO_CODE[name])
            continue
        hit = pycountry.countries.get(numeric=str(n3).zfill(3)) if n3 else None
        if hit is None:
            raise ValueError(
                f"{name!r} (ISO numeric {n3!r}) has no ISO 3166-1 alpha-3 code; add it to NO_ISO_CODE"
            )
        out.append(hit.alpha_3)
    return out


def _unwrapped(ring: np.ndarray) -> tuple[np.ndarray, float]:
    """Ring ``(k, 2)`` with its longitudes made continuous across +-180, and the net turn (0 or +-360)."""
    d = np.diff(ring[:, 0])
    shift = np.r_[0.0, np.cumsum(np.where(d > 180, -360.0, np.where(d < -180, 360.0, 0.0)))]
    out = ring.copy()
    out[:, 0] += shift
    return out, float(shift[-1])


def _valid_polygons(geom) -> list[shapely.Polygon]:
    """The polygons of ``make_valid(geom)`` (quantisation leaves self-touching rings and slivers)."""
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon" and not g.is_empty]


def cut_at_antimeridian(geom) -> shapely.MultiPolygon:
    """``geom`` (lon/lat, TopoJSON "stitched": rings may jump across +-180) as valid polygons inside
    [-180, 180]: each crossing ring is unwrapped, a ring that turns round a pole is closed along
    that pole, and the result is cut at the antimeridian. Rings that do not cross are only repaired."""
    world = shapely.box(-180, -90, 180, 90)
    out = []
    for poly in shapely.get_parts(geom):
        if poly.is_empty:
            continue
        ext, turn = _unwrapped(np.asarray(poly.exterior.coords))
        holes = [_unwrapped(np.asarray(r.coords))[0] for r in poly.interiors]
        if turn == 0 and ext[:, 0].min() >= -180 and ext[:, 0].max() <= 180:
            out += _valid_polygons(poly)
            continue
        if turn != 0:
            pole = -90.0 if ext[:, 1].mean() < 0 else 90.0
            ext = np.vstack([ext[:-1], [[ext[-1, 0], pole], [ext[0, 0], pole], ext[0]]])
        centre = ext[:, 0].mean()
        holes = [h - [360.0 * np.round((h[:, 0].mean() - centre) / 360.0), 0.0] for h in holes]
        for part in _valid_polygons(shapely.Polygon(ext, holes)):
            for k in (-360.0, 0.0, 360.0):
                piece = shapely.intersection(shapely.affinity.translate(part, xoff=k), world)
                out += [g for g in shapely.get_parts(piece) if g.geom_type == "Polygon" and g.area > 0]
    # Parts of one unit may overlap after the repair: merge them.
    return shapely.MultiPolygon(_valid_polygons(shapely.MultiPolygon(out)))


def build(topojson: Path, out: Path = OUT) -> gpd.GeoDataFrame:
    """Read the ``countries`` object of ``topojson``, add codes, write ``out``; returns the layer."""
    raw = gpd.read_file(topojson, layer="countries")
    if "name" not in raw.columns:
        raise ValueError(f"{topojson}: no 'name' property in the countries object")
    numeric = raw["id"] if "id" in raw.columns else [None] * len(raw)
    numeric = [
        None if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v).zfill(3) for v in numeric
    ]
    gdf = gpd.GeoDataFrame(
        {"name": raw["name"].astype(str), "iso_n3": numeric, "iso_a3": alpha3_codes(raw["name"], numeric)},
        geometry=[cut_at_antimeridian(g) for g in raw.geometry.values],
        crs="EPSG:4326",
    )
    # A unit smaller than the quantisation step comes out empty (Vatican): it is dropped, and
    # its area falls in the unit around it.
    empty = gdf.geometry.is_empty
    if empty.any():
        print(f"dropped, empty at this quantisation: {sorted(gdf.loc[empty, 'name'])}")
        gdf = gdf[~empty]
    dup = gdf["iso_a3"].duplicated(keep=False)
    if dup.any():
        raise ValueError(f"{topojson}: iso_a3 codes used twice: {sorted(set(gdf.loc[dup, 'name']))}")
    gdf = gdf.sort_values("name", kind="stable").reset_index(drop=True)
    out.unlink(missing_ok=True)
    gdf.to_file(out, driver="GPKG", layer="countries")
    return gdf


def main(argv=None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m sample_data.naturalearth.build_10m", description=__doc__.splitlines()[0]
    )
    p.add_argument("topojson", type=Path, help="countries-10m.json of world-atlas 2.0.2")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    gdf = build(args.topojson, args.out)
    digest = hashlib.sha256(args.topojson.read_bytes()).hexdigest()
    n_vertices = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
    print(f"{args.out}: {len(gdf)} countries, {n_vertices:,} vertices, input sha256 {digest}")


if __name__ == "__main__":
    main()
