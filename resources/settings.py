"""Project settings read from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.locations import is_url, join, normalise
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


# GEODEM_WAREHOUSE=parquet: the warehouse is the Parquet record under GEODEM_OUTPUT_DIR/warehouse.
PARQUET_WAREHOUSE = "parquet"


def _location(var: str, default: Path) -> str:
    """A local path (``~`` expanded, ``file://`` stripped) or a URL such as ``s3://bucket/key``."""
    value = os.environ.get(var)
    return normalise(value) if value else str(default)


def _warehouse(output_dir: str, data: Path) -> tuple[str, str]:
    """(kind, location) of the warehouse: ("duckdb", file) or ("parquet", folder or URL)."""
    value = os.environ.get("GEODEM_WAREHOUSE") or ""
    if value == PARQUET_WAREHOUSE or (not value and is_url(output_dir)):
        return PARQUET_WAREHOUSE, join(output_dir, "warehouse")
    if is_url(output_dir):
        raise ValueError(
            f"GEODEM_WAREHOUSE={value!r} with GEODEM_OUTPUT_DIR={output_dir!r}: a DuckDB file cannot be "
            "shared by the machines that write to an object store; unset GEODEM_WAREHOUSE (or set it "
            f"to {PARQUET_WAREHOUSE!r}) to keep the warehouse as Parquet under GEODEM_OUTPUT_DIR/warehouse"
        )
    if is_url(value):
        raise ValueError(f"GEODEM_WAREHOUSE={value!r}: a DuckDB file must be a local path")
    return "duckdb", _location("GEODEM_WAREHOUSE", data / "warehouse.duckdb")


@dataclass(frozen=True)
class Settings:
    """Locations are local paths or fsspec URLs (``s3://…``); see common/locations.py."""

    census_dir: str
    output_dir: str
    warehouse: str
    userdays_csv: str
    study_country: str
    hll_database_url: str | None
    countries_file: str | None
    country_layer: str = DEFAULT_COUNTRY_LAYER
    # "duckdb" (one local file, the single-machine default) or "parquet" (the Parquet record).
    warehouse_kind: str = "duckdb"
    # Local folder for caches and files on their way to an object store.
    scratch_dir: str = ""

    @classmethod
    def from_env(cls) -> Settings:
        load_env_file()
        data = PROJECT_ROOT / "data"
        layer = os.environ.get("GEODEM_COUNTRY_LAYER") or DEFAULT_COUNTRY_LAYER
        if layer not in COUNTRY_LAYERS:
            raise ValueError(
                f"GEODEM_COUNTRY_LAYER={layer!r}: expected one of {sorted(COUNTRY_LAYERS)} (default {DEFAULT_COUNTRY_LAYER})"
            )
        output_dir = _location("GEODEM_OUTPUT_DIR", data / "outputs")
        kind, warehouse = _warehouse(output_dir, data)
        scratch = os.environ.get("GEODEM_SCRATCH_DIR")
        if scratch:
            scratch = str(Path(scratch).expanduser())
        elif not is_url(output_dir):
            scratch = join(output_dir, "cache")
        else:
            import tempfile

            scratch = str(Path(tempfile.gettempdir()) / "geodem")
        return cls(
            census_dir=_location("GEODEM_CENSUS_DIR", data / "sample" / "census"),
            output_dir=output_dir,
            warehouse=warehouse,
            warehouse_kind=kind,
            scratch_dir=scratch,
            userdays_csv=_location("GEODEM_USERDAYS_CSV", data / "sample" / "userdays.csv"),
            study_country=os.environ.get("GEODEM_STUDY_COUNTRY", "Germany"),
            hll_database_url=os.environ.get("GEODEM_HLL_DATABASE_URL") or None,
            countries_file=os.environ.get("GEODEM_COUNTRIES_FILE") or None,
            country_layer=layer,
        )
