"""Realistic detail for synthetic boundaries: shared edges densified and roughened once.

Real Output Area boundaries (ONS "generalised, clipped") have tens to thousands of vertices
each; the sample's Voronoi cells have about six. `detail_coverage` turns a polygon coverage
(OAs that tile their LADs without overlaps) into one with jagged edges while keeping it a
coverage:

1. The boundaries of all polygons are noded and polygonised, so every face shares exactly
   the same vertices with its neighbours (the T-junctions where two LADs' OAs meet are
   split).
2. Every face that is star-shaped around its centroid is fanned into triangles (edge,
   centroid); these triangles tile the coverage without overlap. An edge shared by two
   faces is roughened once, within the two triangles on its two sides (the "noisy edges"
   construction of A. Patel, Red Blob Games, mapgen2, 2010, which uses the Voronoi/Delaunay
   quadrilateral of an edge the same way), as the graph of a function over the edge, so it
   stays simple and cannot cross any other edge. Edges on the coverage's outline (coast,
   the edge of a regional sample) and edges of faces without such a fan are only densified:
   the union of the polygons is unchanged.
3. Each polygon's rings are rebuilt from its edges' points, reversed where it runs the
   other way, so both neighbours hold identical vertices.

Every edge gets a few points, plus more per metre, faster on long edges (see MIN_POINTS),
which gives a median of about 47 vertices per OA for the UK at full scale and thousands for
the largest rural ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

# Interior points of an edge of L metres: about MIN_POINTS + PER_METRE * L * (1 + L / LONG_EDGE_M).
# At full scale this gives a UK median of about 47 vertices per OA, a few dozen OAs above
# 2,000 (long rural edges get denser, like real coasts, rivers and field boundaries) and
# about 330 MB of coordinates.
MIN_POINTS = 3
PER_METRE = 0.02
LONG_EDGE_M = 5000.0
# A roughened point stays within this share of the triangle's height at its position, and
# within this share of the edge's length from the straight edge.
ENVELOPE_SHARE = 0.6
LENGTH_SHARE = 0.08


@dataclass(frozen=True)
class DetailSummary:
    """What detail_coverage did: faces, edges roughened or only densified, vertices added."""

    faces: int
    edges: int
    roughened_edges: int
    densified_edges: int
    vertices_before: int
    vertices_after: int


def detail_coverage(
    geoms: np.ndarray,
    seed: int,
    *,
    min_points: int = MIN_POINTS,
    per_metre: float = PER_METRE,
) -> tuple[np.ndarray, DetailSummary]:
    """Densify and roughen a polygon coverage; returns (n,) polygons and a summary.

    geoms: (n,) Polygons or MultiPolygons in a projected CRS (metres) whose interiors do not
    overlap. Deterministic for a seed. Shared edges get the same vertices on both sides;
    the outline of the union is only densified, so the union's area is unchanged. A polygon
    that polygonising cannot find again (a sliver below numerical noise) is returned as it
    was. Raises ValueError if geoms holds anything but polygons.
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    if len(geoms) and not np.isin(kinds, (3, 6)).all():
        raise ValueError("detail_coverage: every geometry must be a Polygon or MultiPolygon")
    before = int(shapely.get_num_coordinates(geoms).sum())
    faces, owner = _faces(geoms)
    rng = np.random.default_rng([seed, 0xDE7A11])
    new_faces, counts = _roughen_faces(faces, rng, min_points, per_metre)
    out = geoms.copy()
    order = np.argsort(owner, kind="stable")
    owner_sorted = owner[order]
    starts = np.flatnonzero(np.r_[True, owner_sorted[1:] != owner_sorted[:-1]])
    ends = np.r_[starts[1:], len(order)]
    for s, e in zip(starts, ends):
        i = owner_sorted[s]
        parts = new_faces[order[s:e]]
        out[i] = parts[0] if e - s == 1 else shapely.coverage_union_all(parts)
    return out, DetailSummary(
        faces=len(faces),
        edges=counts["edges"],
        roughened_edges=counts["roughened"],
        densified_edges=counts["edges"] - counts["roughened"],
        vertices_before=before,
        vertices_after=int(shapely.get_num_coordinates(out).sum()),
    )


def _faces(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Faces of the noded boundaries and the index of the polygon each lies in.

    Faces inside no polygon (gaps) are dropped; a face inside several (an overlap sliver)
    goes to the first.
    """
    lines = shapely.union_all(shapely.boundary(geoms))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    probe = shapely.point_on_surface(faces)
    tree = shapely.STRtree(geoms)
    face_idx, geom_idx = tree.query(probe, predicate="within")
    first = np.unique(face_idx, return_index=True)[1]
    face_idx, geom_idx = face_idx[first], geom_idx[first]
    return faces[face_idx], geom_idx


def _roughen_faces(
    faces: np.ndarray, rng: np.random.Generator, min_points: int, per_metre: float
) -> tuple[np.ndarray, dict]:
    """The faces with their edges densified and, where shared, roughened (see module doc)."""
    _, coords, (ring_off, poly_off) = shapely.to_ragged_array(faces)
    n_rings = len(ring_off) - 1
    ring_len = np.diff(ring_off)
    ring_face = np.repeat(np.arange(len(faces)), np.diff(poly_off))
    # One edge occurrence per ring vertex but the closing one: coords[i] -> coords[i + 1].
    is_start = np.ones(len(coords), dtype=bool)
    is_start[ring_off[1:] - 1] = False
    occ_start = np.flatnonzero(is_start)
    occ_ring = np.repeat(np.arange(n_rings), ring_len - 1)
    occ_face = ring_face[occ_ring]
    a, b = coords[occ_start], coords[occ_start + 1]

    shell_area = _ring_signed_area(coords, ring_off)[poly_off[:-1]]
    apex, star = _fan_apex(faces, a, b, occ_face, shell_area, poly_off)

    # Canonical edge: endpoints in lexicographic order.
    forward = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] < b[:, 1]))
    p = np.where(forward[:, None], a, b)
    q = np.where(forward[:, None], b, a)
    key = np.column_stack([p, q])
    ukey, edge_of, n_occ = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    edge_of = edge_of.ravel()
    n_edges = len(ukey)
    ea, eb = ukey[:, :2], ukey[:, 2:]
    d = eb - ea
    length = np.hypot(d[:, 0], d[:, 1])

    # The triangle (edge, face centroid) on each side of each edge, as a tent over the edge:
    # apex at parameter tg along it, height h from it; side +1 left, -1 right.
    rel = apex - ea[edge_of]
    de = d[edge_of]
    le = length[edge_of]
    tg = (rel * de).sum(axis=1) / le**2
    cross = (de[:, 0] * rel[:, 1] - de[:, 1] * rel[:, 0]) / le
    side = np.sign(cross)
    usable = star[occ_face] & (side != 0)
    tent = np.zeros((n_edges, 2, 2))  # edge, side (0 left, 1 right), (tg, h)
    slots = np.zeros((n_edges, 2), dtype=np.int64)
    slot = (side < 0).astype(np.int64)
    np.add.at(slots, (edge_of[usable], slot[usable]), 1)
    tent[edge_of[usable], slot[usable], 0] = tg[usable]
    tent[edge_of[usable], slot[usable], 1] = np.abs(cross[usable])
    # Roughened only between two faces, each with its own side and a fan; else only densified.
    rough = (n_occ == 2) & (slots[:, 0] == 1) & (slots[:, 1] == 1)
    tent[~rough, :, 1] = 0.0

    m = np.floor(min_points + per_metre * length * (1 + length / LONG_EDGE_M) + rng.random(n_edges)).astype(
        np.int64
    )
    pts = _edge_points(ea, d, length, m, tent, rng)
    pt_off = np.r_[0, np.cumsum(m)]

    # Rebuild every ring: its vertex, then its edge's points in the ring's direction.
    own_fwd = forward
    e = edge_of
    blk = 1 + m[e]
    last_in_ring = np.r_[occ_ring[1:] != occ_ring[:-1], True]
    blk = blk + last_in_ring
    total = int(blk.sum())
    blk_start = np.cumsum(blk) - blk
    occ = np.repeat(np.arange(len(e)), blk)
    pos = np.arange(total) - blk_start[occ]
    mo = m[e][occ]
    k = pos - 1
    inner = np.where(own_fwd[occ], k, mo - 1 - k)
    ring_first = ring_off[:-1][occ_ring]
    idx = np.where(
        pos == 0,
        occ_start[occ],
        np.where(pos <= mo, len(coords) + pt_off[e[occ]] + inner, ring_first[occ]),
    )
    all_coords = np.concatenate([coords, pts])
    new_coords = all_coords[idx]
    ring_sizes = np.bincount(occ_ring, weights=blk, minlength=n_rings).astype(np.int64)
    new_ring_off = np.r_[0, np.cumsum(ring_sizes)]
    new_faces = shapely.from_ragged_array(shapely.GeometryType.POLYGON, new_coords, (new_ring_off, poly_off))
    return new_faces, {"edges": n_edges, "roughened": int(rough.sum())}


def _fan_apex(faces, a, b, occ_face, shell_area, poly_off) -> tuple[np.ndarray, np.ndarray]:
    """Each occurrence's face centroid (occurrences, 2) and whether each face is fanned.

    A face is fanned when it has no hole and its centroid lies strictly inside every edge's
    half-plane (the centroid is in the face's kernel): the triangles (edge, centroid) then
    tile the face.
    """
    centroid = shapely.get_coordinates(shapely.centroid(faces))
    apex = centroid[occ_face]
    cross = (b[:, 0] - a[:, 0]) * (apex[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (apex[:, 0] - a[:, 0])
    # Orientation of each face's shell (signed area); its interior is on that side of each edge.
    orient = np.sign(shell_area)
    inside = cross * orient[occ_face] > 0
    star = np.bincount(occ_face, weights=~inside, minlength=len(faces)) == 0
    star &= np.diff(poly_off) == 1
    return apex, star


def _ring_signed_area(coords: np.ndarray, ring_off: np.ndarray) -> np.ndarray:
    """Signed area of each closed ring (shoelace): positive counter-clockwise. Shape (rings,)."""
    x, y = coords[:, 0], coords[:, 1]
    terms = np.append(x[:-1] * y[1:] - x[1:] * y[:-1], 0.0)
    terms[ring_off[1:] - 1] = 0.0  # no term from one ring's last vertex to the next ring
    return np.add.reduceat(terms, ring_off[:-1]) / 2 if len(ring_off) > 1 else np.zeros(0)


def _edge_points(
    ea: np.ndarray,
    d: np.ndarray,
    length: np.ndarray,
    m: np.ndarray,
    tent: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Interior points of every edge, (sum m, 2): evenly spaced with jitter along the edge,
    displaced by a Brownian bridge (plus jitter) squashed into each side's tent."""
    total = int(m.sum())
    if total == 0:
        return np.empty((0, 2))
    edge = np.repeat(np.arange(len(m)), m)
    start = np.cumsum(m) - m
    i = np.arange(total) - start[edge]
    me = m[edge]
    t = (i + 1 + rng.uniform(-0.35, 0.35, total)) / (me + 1)
    # Brownian bridge over each edge, pinned to 0 at both ends, unit scale.
    steps = rng.normal(size=total)
    walk = np.cumsum(steps)
    walk -= np.r_[0.0, walk][start][edge]
    # One more step past the last point gives the walk's end at t = 1.
    end = walk[np.maximum(start + m - 1, 0)] + rng.normal(size=len(m))
    bridge = (walk - (i + 1) / (me + 1) * end[edge]) / (0.5 * np.sqrt(me + 1))
    noise = np.tanh(0.9 * bridge + 0.35 * rng.normal(size=total))
    s = np.where(noise >= 0, 0, 1)
    tg = tent[edge, s, 0]
    h = tent[edge, s, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(tg > 0, t / tg, np.inf)
        down = np.where(tg < 1, (1 - t) / (1 - tg), np.inf)
    env = h * np.minimum(up, down)
    le = length[edge]
    amp = np.minimum(ENVELOPE_SHARE * env, LENGTH_SHARE * le) * noise
    ux, uy = d[edge, 0] / le, d[edge, 1] / le
    x = ea[edge, 0] + t * d[edge, 0] - amp * uy
    y = ea[edge, 1] + t * d[edge, 1] + amp * ux
    return np.column_stack([x, y])


def detailed_sample(sample, seed: int):
    """A SampleCensus with detailed OA polygons (detail_coverage), LAD polygons dissolved
    from them (so every OA lies in its LAD exactly) and v01 recomputed from the new areas
    (usual residents per km², 2 decimals). Deterministic for a seed."""
    from dataclasses import replace

    import pandas as pd

    geoms, _ = detail_coverage(sample.oa.geometry.to_numpy(), seed)
    oa = sample.oa.set_geometry(geoms)
    lad_of = sample.truth.set_index("OA")["LAD22CD"].reindex(oa["OA"]).to_numpy()
    lad_geoms = sample.lad.geometry.to_numpy().copy()
    for i, code in enumerate(sample.lad["LAD22CD"]):
        parts = geoms[lad_of == code]
        if len(parts):
            merged = shapely.coverage_union_all(parts)
            lad_geoms[i] = merged if shapely.is_valid(merged) else shapely.union_all(parts)
    lad = sample.lad.set_geometry(lad_geoms)
    variables = sample.variables.copy()
    area_km2 = pd.Series(shapely.area(geoms) / 1e6, index=oa["OA"].to_numpy())
    density = sample.population.reindex(variables.index) / area_km2.reindex(variables.index)
    variables["v01"] = density.astype(np.float64).round(2)
    return replace(sample, oa=oa, lad=lad, variables=variables)
