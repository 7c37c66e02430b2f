"""Project settings read from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from resources.country_layers import COUNTRY_LAYERS, DEFAULT_COUNTRY_LAYER

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_FILE_VAR = "GEODEM_ENV_FILE"


def load_env_file() -> Path | None:
    """Read `KEY=value` lines of the project's `.env` (or the file $GEODEM_ENV_FILE names) into
    the environment; a variable already set in the environment wins over the file.

    Returns the file read, or None when there is none. Values are never printed or logged.
    """
    from dotenv import load_dotenv

    path = Path(os.environ.get(ENV_FILE_VAR) or PROJECT_ROOT / ".env").expanduser()
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else default


@dataclass(frozen=True)
class Settings:
    census_dir: Path
    output_dir: Path
    warehouse: Path
    userdays_csv: Path
    study_country: str
    hll_database_url: str | None
    countries_file: str | None
    country_layer: str = DEFAULT_COUNTRY_LAYER

    @classmethod
    def from_env(cls) -> Settings:
        load_env_file()
        data = PROJECT_ROOT / "data"
        layer = os.environ.get("GEODEM_COUNTRY_LAYER") or DEFAULT_COUNTRY_LAYER
        if layer not in COUNTRY_LAYERS:
            raise ValueError(
                f"GEODEM_COUNTRY_LAYER={layer!r}: expected one of {sorted(COUNTRY_LAYERS)} (default {DEFAULT_COUNTRY_LAYER})"
            )
        return cls(
            census_dir=_path("GEODEM_CENSUS_DIR", data / "sample" / "census"),
            output_dir=_path("GEODEM_OUTPUT_DIR", data / "outputs"),
            warehouse=_path("GEODEM_WAREHOUSE", data / "warehouse.duckdb"),
            userdays_csv=_path("GEODEM_USERDAYS_CSV", data / "sample" / "userdays.csv"),
            study_country=os.environ.get("GEODEM_STUDY_COUNTRY", "Germany"),
            hll_database_url=os.environ.get("GEODEM_HLL_DATABASE_URL") or None,
            countries_file=os.environ.get("GEODEM_COUNTRIES_FILE") or None,
            country_layer=layer,
        )
