"""Point -> country: within, nearest offshore, none; the Natural Earth -99 fix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from homeloc_assets.countries import CountryIndex, assign_countries, load_countries


@pytest.fixture(scope="module")
def countries():
    return load_countries()


@pytest.fixture(scope="module")
def index(countries):
    return CountryIndex(countries)


def _west_of_coast(countries, name: str, lat: float, km: float) -> tuple[float, float]:
    """A point ``km`` due west of the westmost coast of ``name`` at latitude ``lat``."""
    geom = countries.loc[countries["name"] == name, "geometry"].iat[0]
    crossing = shapely.intersection(geom.boundary, shapely.LineString([(-40, lat), (40, lat)]))
    x0 = shapely.get_coordinates(crossing)[:, 0].min()
    return lat, x0 - km / (111.195 * np.cos(np.radians(lat)))


def test_cities_fall_within_their_countries(countries, index):
    lat = np.array([52.52, 48.8566, 40.4168, 51.5074])
    lon = np.array([13.405, 2.3522, -3.7038, -0.1278])
    for where in (countries, index):
        country, how = assign_countries(lat, lon, where)
        assert country.tolist() == ["Germany", "France", "Spain", "United Kingdom"]
        assert how.tolist() == ["within"] * 4
    iso, _ = assign_countries(lat, lon, index, field="iso_a3")
    assert iso.tolist() == ["DEU", "FRA", "ESP", "GBR"]


def test_point_a_few_km_offshore_gets_the_nearest_country(countries, index):
    lat, lon = _west_of_coast(countries, "Portugal", 39.5, 5.0)
    country, how = assign_countries([lat], [lon], index)
    assert (country[0], how[0]) == ("Portugal", "nearest")
    country, how = assign_countries([lat], [lon], index, max_offshore_km=2.0)
    assert (country[0], how[0]) == (None, "none")


def test_point_far_offshore_gets_none(countries, index):
    lat, lon = _west_of_coast(countries, "Portugal", 39.5, 60.0)
    mid_atlantic = (30.0, -40.0)
    country, how = assign_countries([lat, mid_atlantic[0]], [lon, mid_atlantic[1]], index)
    assert country.tolist() == [None, None] and how.tolist() == ["none", "none"]


def test_invalid_coordinates_get_none(index):
    country, how = assign_countries([np.nan, 95.0, 52.52], [13.4, 13.4, np.inf], index)
    assert country.tolist() == [None, None, None] and how.tolist() == ["none"] * 3


def test_repeated_points_are_answered_consistently(index):
    rng = np.random.default_rng(3)
    base_lat = np.round(rng.uniform(35, 60, 200), 2)
    base_lon = np.round(rng.uniform(-10, 30, 200), 2)
    pick = rng.integers(0, 200, 5000)
    once = assign_countries(base_lat, base_lon, index)
    many = assign_countries(base_lat[pick], base_lon[pick], index)
    assert many[0].tolist() == once[0][pick].tolist() and many[1].tolist() == once[1][pick].tolist()


def test_shapes_must_match(index):
    with pytest.raises(ValueError, match="differ in length"):
        assign_countries([1.0, 2.0], [1.0], index)


def test_load_countries_has_no_minus_99_codes(countries):
    assert list(countries.columns) == ["name", "iso_a3", "geometry"]
    assert not (countries["iso_a3"] == "-99").any()
    codes = dict(zip(countries["name"], countries["iso_a3"]))
    assert codes["France"] == "FRA" and codes["Norway"] == "NOR" and codes["Germany"] == "DEU"


def test_load_countries_fixes_minus_99_and_rejects_unknown(tmp_path):
    square = shapely.box(0, 0, 1, 1)
    path = tmp_path / "c.gpkg"
    gpd.GeoDataFrame(
        {"name": ["France", "Norway"], "iso_a3": ["-99", "-99"]}, geometry=[square, square], crs="EPSG:4326"
    ).to_file(path)
    assert load_countries(path)["iso_a3"].tolist() == ["FRA", "NOR"]
    gpd.GeoDataFrame({"name": ["Atlantis"], "iso_a3": ["-99"]}, geometry=[square], crs="EPSG:4326").to_file(
        path
    )
    with pytest.raises(ValueError, match=r"c\.gpkg: country 'Atlantis' has iso_a3 -99"):
        load_countries(path)
    gpd.GeoDataFrame({"name": ["X"]}, geometry=[square], crs="EPSG:4326").to_file(path)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['iso_a3'\]"):
        load_countries(path)
