"""The country layers: 1:10m by default (small states, borders close to the real ones), 1:110m on request."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from homeloc_assets.countries import CountryIndex, assign_countries, countries_path, load_countries
from resources.defaults import resources_from_env
from resources.settings import Settings


@pytest.fixture(scope="module")
def fine():
    return CountryIndex(load_countries())


@pytest.fixture(scope="module")
def coarse():
    return CountryIndex(load_countries(countries_path("110m")))


PLACES = [
    # (what, lat, lon, iso_a3 at 1:10m)
    ("Vaduz", 47.1410, 9.5209, "LIE"),
    ("Monaco, Monte Carlo", 43.7396, 7.4276, "MCO"),
    ("San Marino, Città", 43.9356, 12.4473, "SMR"),
    ("Andorra la Vella", 42.5063, 1.5218, "AND"),
    ("Luxembourg", 49.6116, 6.1319, "LUX"),
    ("Basel, Münster", 47.5565, 7.5924, "CHE"),
    ("Weil am Rhein, across the Rhine from Basel", 47.5947, 7.6107, "DEU"),
    ("Saint-Louis, west of Basel", 47.5897, 7.5597, "FRA"),
    ("Strasbourg", 48.5734, 7.7521, "FRA"),
    ("Kehl, across the Rhine from Strasbourg", 48.5728, 7.8152, "DEU"),
    ("Aachen", 50.7753, 6.0839, "DEU"),
    ("Salzburg", 47.8095, 13.0550, "AUT"),
    ("Freilassing, across the Saalach from Salzburg", 47.8400, 12.9800, "DEU"),
]


@pytest.mark.parametrize(("what", "lat", "lon", "iso"), PLACES, ids=[p[0] for p in PLACES])
def test_places_at_borders_and_in_small_states_get_their_country(fine, what, lat, lon, iso):
    got, how = assign_countries([lat], [lon], fine, field="iso_a3")
    assert (got[0], how[0]) == (iso, "within"), what


def test_the_110m_layer_has_no_small_states(coarse):
    """Why 1:10m is the default: at 1:110m Vaduz is Austria and Monaco France."""
    got, _ = assign_countries([47.1410, 43.7396], [9.5209, 7.4276], coarse, field="iso_a3")
    assert got.tolist() == ["AUT", "FRA"]
    assert not {"LIE", "MCO", "SMR", "AND"} & set(coarse.countries["iso_a3"])


def test_the_10m_layer_is_complete_and_valid():
    gdf = load_countries()
    assert list(gdf.columns) == ["name", "iso_a3", "geometry"] and len(gdf) == 254
    assert gdf["iso_a3"].is_unique and not gdf["iso_a3"].isin(["-99", ""]).any()
    assert shapely.is_valid(gdf.geometry.values).all()
    lon_min, lat_min, lon_max, lat_max = gdf.total_bounds
    assert (lon_min, lat_min, lon_max) == (-180.0, -90.0, 180.0) and lat_max < 84
    # Cut at the antimeridian, not wrapped round it: no part spans more than half the globe.
    parts = shapely.get_parts(gdf.geometry.values)
    widths = shapely.bounds(parts)[:, 2] - shapely.bounds(parts)[:, 0]
    assert widths.max() == 360.0  # Antarctica alone, closed along the pole
    assert (widths < 180).sum() == len(parts) - 1


def test_the_south_pole_and_both_sides_of_the_antimeridian_are_inside(fine):
    got, how = assign_countries([-89.99, 66.0, 66.0, -17.8], [0.0, 179.9, -179.9, 178.0], fine)
    assert got.tolist() == ["Antarctica", "Russia", "Russia", "Fiji"]
    assert how.tolist() == ["within"] * 4


def test_layer_switch_through_the_environment(monkeypatch):
    monkeypatch.delenv("GEODEM_COUNTRIES_FILE", raising=False)
    monkeypatch.delenv("GEODEM_COUNTRY_LAYER", raising=False)
    assert resources_from_env()["userdays"].countries_path == str(countries_path("10m"))
    monkeypatch.setenv("GEODEM_COUNTRY_LAYER", "110m")
    path = resources_from_env()["userdays"].countries_path
    assert path == str(countries_path("110m")) and len(load_countries(path)) == 177
    monkeypatch.setenv("GEODEM_COUNTRIES_FILE", "/data/my_countries.gpkg")
    assert resources_from_env()["userdays"].countries_path == "/data/my_countries.gpkg"
    monkeypatch.setenv("GEODEM_COUNTRY_LAYER", "50m")
    with pytest.raises(ValueError, match="GEODEM_COUNTRY_LAYER='50m'"):
        Settings.from_env()
    with pytest.raises(ValueError, match="unknown country layer '50m'"):
        countries_path("50m")


def test_layers_agree_away_from_borders(fine, coarse):
    """Capitals of large countries: the same ISO code from both layers."""
    lat = np.array([52.52, 48.8566, 40.4168, 51.5074, 55.7558, 39.9042, 38.9072, -15.7939])
    lon = np.array([13.405, 2.3522, -3.7038, -0.1278, 37.6173, 116.4074, -77.0369, -47.8828])
    a, _ = assign_countries(lat, lon, fine, field="iso_a3")
    b, _ = assign_countries(lat, lon, coarse, field="iso_a3")
    assert a.tolist() == b.tolist() == ["DEU", "FRA", "ESP", "GBR", "RUS", "CHN", "USA", "BRA"]
