"""The vendored country layers (sample_data/naturalearth/README.md) and where their files are."""

from __future__ import annotations

from pathlib import Path

NATURALEARTH_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "naturalearth"
COUNTRY_LAYERS = {"10m": "naturalearth_10m_countries.gpkg", "110m": "naturalearth_lowres_countries.gpkg"}
DEFAULT_COUNTRY_LAYER = "10m"


def countries_path(layer: str = DEFAULT_COUNTRY_LAYER) -> Path:
    """Path of a vendored Natural Earth country layer: ``"10m"`` (1:10m, default) or ``"110m"``.

    Raises ValueError naming the accepted layers for any other value.
    """
    if layer not in COUNTRY_LAYERS:
        raise ValueError(f"unknown country layer {layer!r}; expected one of {sorted(COUNTRY_LAYERS)}")
    return NATURALEARTH_DIR / COUNTRY_LAYERS[layer]
