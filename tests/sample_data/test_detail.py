"""Detailed boundaries (`geodem sample census --detail`): realistic vertex counts, still a coverage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import shapely

from geodem_assets.census import read_release
from geodem_assets.geography import assign_lads
from resources.census_files import locate_release
from sample_data.census import build_sample_census, write_sample_census
from sample_data.detail import detail_coverage, detailed_sample


@pytest.fixture(scope="module")
def scotland():
    """Scotland at 3 % of its OA counts (large rural OAs), before and after detailing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = build_sample_census(regions=["scotland"], seed=3, scale=0.03)
    return plain, detailed_sample(plain, seed=3)


@pytest.fixture(scope="module")
def liverpool():
    """Liverpool City Region at 30 % of its OA counts, before and after detailing."""
    plain = build_sample_census(regions=["liverpool-city-region"], seed=4, scale=0.3)
    return plain, detailed_sample(plain, seed=4)


def _vertices(sample) -> np.ndarray:
    return shapely.get_num_coordinates(sample.oa.geometry.to_numpy())


def test_vertex_counts_have_a_realistic_median_and_tail(scotland, liverpool):
    for plain, detailed in (scotland, liverpool):
        assert np.median(_vertices(plain)) < 12  # Voronoi cells
        assert np.median(_vertices(detailed)) >= 40
    assert _vertices(scotland[1]).max() > 2000
    # Every OA gained vertices, not only the large ones.
    for plain, detailed in (scotland, liverpool):
        assert (_vertices(detailed) > _vertices(plain)).all()


def test_polygons_are_valid_and_still_a_coverage(scotland, liverpool):
    for _, detailed in (scotland, liverpool):
        geoms = detailed.oa.geometry.to_numpy()
        assert shapely.is_valid(geoms).all()
        assert np.isin(shapely.get_type_id(geoms), (3, 6)).all()
        # No overlaps, and neighbours' shared edges hold exactly the same vertices.
        assert shapely.coverage_is_valid(geoms)


def test_neighbours_do_not_overlap_and_the_union_is_unchanged(scotland, liverpool):
    for plain, detailed in (scotland, liverpool):
        geoms = detailed.oa.geometry.to_numpy()
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        pairs = left < right
        assert pairs.sum() > len(geoms)  # neighbours exist
        overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])).sum()
        total = shapely.area(geoms).sum()
        assert overlap < 1e-9 * total
        before = shapely.union_all(plain.oa.geometry.to_numpy()).area
        assert shapely.coverage_union_all(geoms).area == pytest.approx(before, rel=1e-9)
        assert total == pytest.approx(before, rel=1e-9)


def test_shared_edges_are_roughened_not_only_densified(liverpool):
    plain, detailed = liverpool
    old, new = plain.oa.geometry.to_numpy(), detailed.oa.geometry.to_numpy()
    moved = shapely.hausdorff_distance(shapely.boundary(old), shapely.boundary(new))
    assert (moved > 1.0).mean() > 0.95  # metres off the straight edges
    # ... but each OA stays close to what it was: a few per cent of its area changes hands.
    changed = shapely.area(shapely.symmetric_difference(old, new)) / shapely.area(old)
    assert np.median(changed) < 0.15


def test_every_oa_stays_in_its_lad(scotland, liverpool):
    for plain, detailed in (scotland, liverpool):
        truth = detailed.truth.set_index("OA")["LAD22CD"]
        assigned = assign_lads(detailed.oa, detailed.lad).set_index("OA")
        assert (assigned["LAD22CD"].reindex(truth.index) == truth).all()
        assert set(assigned["method"]) == {"within"}
        lad = detailed.lad.set_index("LAD22CD").geometry
        centroids = detailed.oa.geometry.centroid.to_numpy()
        own_lad = lad.reindex(truth.reindex(detailed.oa["OA"]).to_numpy()).to_numpy()
        old_lad = plain.lad.set_index("LAD22CD").geometry.reindex(truth.reindex(plain.oa["OA"])).to_numpy()
        was_inside = shapely.within(plain.oa.geometry.centroid.to_numpy(), old_lad)
        assert was_inside.mean() > 0.95
        assert shapely.within(centroids, own_lad)[was_inside].all()


def test_density_follows_the_detailed_areas(liverpool):
    _, detailed = liverpool
    area = pd.Series(detailed.oa.geometry.area.to_numpy() / 1e6, index=detailed.oa["OA"].to_numpy())
    expected = (detailed.population / area.reindex(detailed.population.index)).round(2)
    assert np.allclose(detailed.variables["v01"], expected.reindex(detailed.variables.index), atol=0.006)


def test_deterministic_for_a_seed(liverpool):
    plain, detailed = liverpool
    again = detailed_sample(plain, seed=4)
    other = detailed_sample(plain, seed=5)
    wkb = shapely.to_wkb(detailed.oa.geometry.to_numpy())
    assert (shapely.to_wkb(again.oa.geometry.to_numpy()) == wkb).all()
    assert (shapely.to_wkb(other.oa.geometry.to_numpy()) != wkb).mean() > 0.9


def test_t_junctions_and_a_non_convex_face_by_hand():
    """Two squares on the left, one tall rectangle on the right (a T-junction at (1, 1)),
    and an L-shaped polygon above them whose centroid lies outside its kernel."""
    geoms = np.array(
        [
            shapely.box(0, 0, 1000, 1000),
            shapely.box(0, 1000, 1000, 2000),
            shapely.box(1000, 0, 2000, 2000),
            shapely.Polygon([(0, 2000), (2000, 2000), (2000, 2200), (200, 2200), (200, 4000), (0, 4000)]),
        ],
        dtype=object,
    )
    detailed, summary = detail_coverage(geoms, seed=1)
    assert shapely.is_valid(detailed).all() and shapely.coverage_is_valid(detailed)
    assert shapely.coverage_union_all(detailed).area == pytest.approx(shapely.union_all(geoms).area)
    # The T-junction node is a vertex of all three rectangles.
    for g in detailed[:3]:
        assert (shapely.get_coordinates(g) == [1000.0, 1000.0]).all(axis=1).any()
    assert summary.roughened_edges >= 3
    # The L shape is only densified: its edges keep to the straight lines of the original.
    assert shapely.hausdorff_distance(shapely.boundary(detailed[3]), shapely.boundary(geoms[3])) < 1e-6
    assert shapely.get_num_coordinates(detailed[3]) > shapely.get_num_coordinates(geoms[3])


def test_non_polygons_are_refused():
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        detail_coverage(np.array([shapely.Point(0, 0)], dtype=object), seed=0)


def test_written_release_reads_cleanly(tmp_path):
    summary = write_sample_census(
        tmp_path, regions=["liverpool-city-region"], seed=6, scale=0.05, detail=True
    )
    assert summary.detail and "detailed boundaries" in str(summary)
    assert "Detailed boundaries" in (tmp_path / "SAMPLE_README.txt").read_text()
    release = read_release(locate_release(tmp_path))
    assert release.problems == []
    assert np.median(shapely.get_num_coordinates(release.oa.geometry.to_numpy())) >= 40
