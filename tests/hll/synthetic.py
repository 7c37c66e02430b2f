"""Synthetic user-day rows in the home-location input layout, for tests and timings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from resources.hll import HLL, hash_texts

COUNTRIES = ["DEU", "FRA", "AUT", "CHE", "NLD", "POL", "ITA", "ESP"]


def userday_rows(
    n_users: int, seed: int = 0, params: tuple[int, int, int, int] = (11, 5, 0, 1), as_hex: bool = True
) -> pd.DataFrame:
    """Rows (user_guid, country, userday_hll): each user has 1–4 points in each of 1–3 countries,
    each point the HLL of the distinct days the user was active there (1–40 days; 1 % of
    points 500–1500 days, so unions cross from SPARSE to FULL)."""
    rng = np.random.default_rng(seed)
    users, countries, day_counts = [], [], []
    for u in range(n_users):
        guid = f"u{seed}-{u:07d}-{rng.integers(1 << 30):08x}"
        home = COUNTRIES[0] if rng.random() < 0.4 else COUNTRIES[rng.integers(len(COUNTRIES))]
        others = rng.choice(len(COUNTRIES), rng.integers(0, 3), replace=False)
        for country in dict.fromkeys([home, *(COUNTRIES[i] for i in others)]):
            for _ in range(int(rng.integers(1, 5))):
                heavy = rng.random() < 0.01
                users.append(guid)
                countries.append(country)
                day_counts.append(int(rng.integers(500, 1500)) if heavy else int(rng.integers(1, 41)))
    counts = np.array(day_counts)
    days = rng.integers(0, 3000, size=int(counts.sum()))
    owner = np.repeat(np.arange(len(users)), counts)
    hashes = hash_texts([f"twitter:{users[o]}:{d}" for o, d in zip(owner.tolist(), days.tolist())])
    bounds = np.concatenate([[0], np.cumsum(counts)])
    hlls = []
    for i in range(len(users)):
        h = HLL.from_hashes(hashes[bounds[i] : bounds[i + 1]], *params)
        hlls.append(h.to_hex() if as_hex else h.to_bytes())
    return pd.DataFrame({"user_guid": users, "country": countries, "userday_hll": hlls})
