"""Planted nested clusters: supergroups made of groups made of subgroups, each tier clear."""

from __future__ import annotations

import numpy as np


def planted_hierarchy(
    shape: list[list[int]],
    *,
    p: int = 12,
    spreads: tuple[float, float, float] = (1.0, 0.3, 0.09),
    noise: float = 0.008,
    n: int = 30,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows around nested centres: shape[i][j] subgroups in group j of supergroup i, n rows each.

    The children of a centre sit on distinct axes at `spreads[tier]` from it (so siblings are
    spreads[tier] x sqrt(2) apart), rows add N(0, noise) per variable. Returns X (rows, p) and
    the planted labels (rows, 3): supergroup, group within it, subgroup within the group.
    """
    rng = np.random.default_rng(seed)

    def children(centre: np.ndarray, spread: float, m: int) -> np.ndarray:
        if m > p:
            raise ValueError(f"{m} children need at least {m} variables, p = {p}")
        out = np.repeat(centre[None], m, axis=0)
        out[np.arange(m), rng.permutation(p)[:m]] += spread * rng.choice([-1.0, 1.0], size=m)
        return out

    rows, labels = [], []
    for i, sup in enumerate(children(np.zeros(p), spreads[0], len(shape))):
        for j, group in enumerate(children(sup, spreads[1], len(shape[i]))):
            for s, centre in enumerate(children(group, spreads[2], shape[i][j])):
                rows.append(centre + rng.normal(scale=noise, size=(n, p)))
                labels += [(i, j, s)] * n
    return np.concatenate(rows), np.array(labels)
