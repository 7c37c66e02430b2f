"""Pictures for asset pages: matplotlib figures as base64 PNG inside Markdown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from common.figures import figure_markdown, plt


def variance_bars(variances: pd.Series) -> str:
    fig, ax = plt.subplots(figsize=(9, 3))
    variances.plot.bar(ax=ax, color="#4c72b0", fontsize=6)
    ax.set_ylabel("variance")
    ax.set_title("Variance of each transformed variable")
    return figure_markdown(fig, "variances")


def clustergram_figure(X: np.ndarray, labels_by_k: dict[int, np.ndarray], title: str | None = None):
    """The clustergram package's plot (Clustergram.from_data, cluster means) of our own k-means
    labels; X (n, p), labels_by_k {k: (n,) labels in 0..k-1}. Returns the matplotlib figure.

    ValueError naming the k when a labelling leaves a cluster empty (the package indexes cluster
    means by label and would fail inside).
    """
    from clustergram import Clustergram

    ks = sorted(labels_by_k)
    for k in ks:
        present = np.unique(labels_by_k[k])
        if len(present) != k or present.min() != 0 or present.max() != k - 1:
            raise ValueError(
                f"clustergram plot: the labels for k={k} fill {len(present)} of its {k} clusters; "
                "every cluster must hold a row (fit only k up to the matrix's distinct rows)"
            )
    labels = pd.DataFrame({k: labels_by_k[k] for k in ks})
    cgram = Clustergram.from_data(pd.DataFrame(X), labels, method="mean")
    fig, ax = plt.subplots(figsize=(8, 5))
    cgram.plot(ax=ax, size=0.5, linewidth=0.3)
    ax.set_title(title or f"Clustergram (k = {ks[0]}..{ks[-1]})")
    return fig


def clustergram_plot(X: np.ndarray, labels_by_k: dict[int, np.ndarray]) -> str:
    """The clustergram package's plot, drawn from our own k-means labels, as Markdown."""
    return figure_markdown(clustergram_figure(X, labels_by_k), "clustergram")


def scores_plot(scores: pd.DataFrame, picks: dict[str, int | None], suggested: int) -> str:
    """The five criteria against k (choose_k.scores_table), each criterion's k marked with a
    dot, the suggestion with a red dashed line."""
    panels = (
        ("inertia", "inertia (elbow)", "elbow"),
        ("silhouette", "silhouette (max)", "silhouette"),
        ("calinski_harabasz", "Calinski-Harabasz (max)", "calinski_harabasz"),
        ("davies_bouldin", "Davies-Bouldin (min)", "davies_bouldin"),
        ("gap", "gap statistic (1-SE rule)", "gap"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(16, 3))
    for ax, (column, title, criterion) in zip(axes, panels):
        rows = scores[scores[column].notna()]
        if column == "gap":
            ax.errorbar(rows["k"], rows["gap"], yerr=rows["gap_se"], fmt="o-", capsize=2)
        else:
            ax.plot(rows["k"], rows[column], "o-")
        pick = picks.get(criterion)
        if pick is not None and (rows["k"] == pick).any():
            ax.plot([pick], rows.loc[rows["k"] == pick, column], "o", color="black", ms=9, mfc="none")
        ax.axvline(suggested, color="red", lw=0.8, ls="--")
        ax.set_title(title + (f": k = {pick}" if pick is not None else ": abstains"), fontsize=9)
        ax.set_xlabel("k")
    return figure_markdown(fig, "criteria for k")


def index_heatmap(
    scores: pd.DataFrame, names: dict[str, str] | None = None, title: str = "Index scores"
) -> str:
    """Variables x clusters heatmap centred on 100."""
    fig, ax = plt.subplots(figsize=(1.2 + 0.6 * scores.shape[1], 0.16 * scores.shape[0] + 1))
    im = ax.imshow(scores.to_numpy(dtype=float), cmap="RdBu_r", vmin=0, vmax=200, aspect="auto")
    ax.set_yticks(range(scores.shape[0]), [names.get(v, v) if names else v for v in scores.index], fontsize=5)
    ax.set_xticks(range(scores.shape[1]), scores.columns, fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.6, label="index (100 = region)")
    ax.set_title(title)
    return figure_markdown(fig, "index scores")


def embedding_scatter(xy: np.ndarray, codes: np.ndarray) -> str:
    fig, ax = plt.subplots(figsize=(6, 5))
    for code in sorted(set(codes)):
        sel = codes == code
        ax.scatter(xy[sel, 0], xy[sel, 1], s=2, label=code)
    ax.legend(markerscale=5, fontsize=7)
    ax.set_title("UMAP of OAs by supergroup")
    return figure_markdown(fig, "UMAP")


def polygon_paths(geoms: np.ndarray, groups: np.ndarray, n_groups: int) -> list:
    """One matplotlib compound Path per group of polygons, for drawing thousands of them at once.

    geoms (n,) Polygons/MultiPolygons (None and empty ones draw nothing); groups (n,) ints in
    0..n_groups-1. Returns n_groups `matplotlib.path.Path`s, a group without polygons an empty
    path. Rings are oriented (exteriors counter-clockwise, holes clockwise) so matplotlib's
    non-zero fill cuts each hole, and a polygon inside another's hole is filled as its own group.

    Drawing one PathPatch per polygon (geopandas' `GeoDataFrame.plot`) costs a Python object
    per polygon; a compound path per colour builds the same picture from a few NumPy arrays.
    """
    import shapely
    from matplotlib.path import Path as MplPath

    geoms = np.asarray(geoms, dtype=object)
    groups = np.asarray(groups)
    if groups.shape != geoms.shape or (groups.size and (groups.min() < 0 or groups.max() >= n_groups)):
        raise ValueError(
            f"polygon_paths: groups must be one int in 0..{n_groups - 1} per geometry "
            f"({groups.shape} for {geoms.shape})"
        )
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    nested, inner_of = shapely.get_parts(parts, return_index=True)  # a collection's multi-parts
    parts, part_of = nested, part_of[inner_of]
    polygon = shapely.get_type_id(parts) == 3  # lines and points of a collection draw nothing
    parts, part_of = shapely.orient_polygons(parts[polygon], exterior_cw=False), part_of[polygon]
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    if len(xy):
        starts = np.flatnonzero(np.r_[True, vertex_ring[1:] != vertex_ring[:-1]])
        codes[starts] = MplPath.MOVETO
        codes[np.r_[starts[1:] - 1, len(xy) - 1]] = MplPath.CLOSEPOLY
    vertex_group = groups[part_of[ring_of[vertex_ring]]] if len(xy) else np.zeros(0, dtype=int)
    out = []
    for g in range(n_groups):
        mine = vertex_group == g
        out.append(MplPath(xy[mine], codes[mine]) if mine.any() else MplPath(np.zeros((0, 2))))
    return out


def _draw_polygons(ax, geoms: np.ndarray, groups: np.ndarray, colors: list) -> None:
    """Fill geoms on ax, polygon i in colors[groups[i]]; equal scales, no axes."""
    from matplotlib.collections import PathCollection

    paths = polygon_paths(geoms, groups, len(colors))
    ax.add_collection(PathCollection(paths, facecolors=colors, linewidths=0))
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()


def cluster_map(gdf, column: str) -> str:
    """A static map of gdf coloured by column (categories in their sorted order, tab10's
    colours, repeating after ten; OAs without a value are not drawn); outlines simplified to
    the figure's resolution."""
    from matplotlib.patches import Patch

    from geodem_assets.display import static_map_geometries

    coded = gdf[column].notna().to_numpy()  # an OA without a value is not drawn, as geopandas does
    geoms = static_map_geometries(gdf.geometry.to_numpy()[coded])
    categories, groups = np.unique(gdf[column].to_numpy()[coded], return_inverse=True)
    categories = [str(c) for c in categories]
    tab10 = plt.get_cmap("tab10")
    colors = [tab10(i % 10) for i in range(len(categories))]
    fig, ax = plt.subplots(figsize=(6, 6))
    _draw_polygons(ax, geoms, groups, colors)
    ax.legend(handles=[Patch(color=c, label=name) for c, name in zip(colors, categories)], fontsize=8)
    ax.set_title(f"{column} map")
    return figure_markdown(fig, f"{column} map")


def poor_fit_map(gdf, poor: pd.Series, title: str) -> str:
    """A static map of the OAs (gdf: OA, geometry), those flagged in `poor` (bool per OA) in red."""
    from geodem_assets.display import static_map_geometries

    geoms = static_map_geometries(gdf.geometry.to_numpy())
    flagged = poor.reindex(gdf["OA"]).fillna(False).to_numpy(dtype=bool)
    fig, ax = plt.subplots(figsize=(6, 6))
    _draw_polygons(ax, geoms, flagged.astype(int), ["#d9d9d9", "#d62728"])
    ax.set_title(f"{title}: {int(flagged.sum())} of {len(gdf)} OAs fit poorly (red)", fontsize=9)
    return figure_markdown(fig, "poorly fitting OAs")


def transition_heatmap(matrix: pd.DataFrame, title: str) -> str:
    """Heatmap of a transition matrix (previous-release clusters x this release's, OAs): each
    row coloured by its share of the previous cluster, counts written in the cells (up to 20x20)."""
    counts = matrix.to_numpy(dtype=float)
    share = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    rows, cols = counts.shape
    fig, ax = plt.subplots(figsize=(1.5 + 0.45 * cols, 1.2 + 0.4 * rows))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    if rows <= 20 and cols <= 20:
        for i in range(rows):
            for j in range(cols):
                if counts[i, j]:
                    color = "white" if share[i, j] > 60 else "black"
                    ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=7, color=color)
    ax.set_xticks(range(cols), matrix.columns, fontsize=7, rotation=90 if cols > 12 else 0)
    ax.set_yticks(range(rows), matrix.index, fontsize=7)
    ax.set_xlabel("this release")
    ax.set_ylabel("previous release")
    fig.colorbar(im, ax=ax, shrink=0.7, label="% of the previous cluster's OAs")
    ax.set_title(title, fontsize=9)
    return figure_markdown(fig, "transitions between releases")


def poor_fit_share_bars(poor: pd.Series, supergroup: pd.Series, level: str) -> str | None:
    """An inline bar chart (under the UI's 1000-character Markdown limit): the % of each
    supergroup's OAs that fit their `level` poorly. poor, supergroup: per OA, same index.
    None when even the smallest picture does not fit (many supergroups): the table says it."""
    from common.figures import inline_figure_markdown

    share = (100 * poor.astype(float).groupby(supergroup.reindex(poor.index)).mean()).sort_index()
    fig, ax = plt.subplots(figsize=(3, 0.4 + 0.17 * len(share)))
    ax.barh(list(share.index)[::-1], share.to_numpy()[::-1], color="#d62728")
    ax.set_xlabel(f"% poor fit ({level})", fontsize=7)
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    try:
        return inline_figure_markdown(fig, f"poorly fitting OAs by supergroup, {level}s")
    except ValueError:
        return None
