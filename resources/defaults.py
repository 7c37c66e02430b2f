"""The resources of both pipelines, chosen from the environment (embedded defaults otherwise)."""

from __future__ import annotations

from common.locations import join
from resources.census_source import CensusSource
from resources.country_layers import countries_path
from resources.hll_resource import hll_resource_from_env
from resources.namers.resource import namer_resource_from_env
from resources.output_store import OutputStore
from resources.parquet_warehouse import ParquetWarehouse
from resources.settings import PARQUET_WAREHOUSE, Settings, load_env_file
from resources.userday_source import UserdaySource
from resources.warehouse import Warehouse


def resources_from_env(settings: Settings | None = None) -> dict:
    """Every resource of both pipelines from the environment and the project's `.env` file.

    Inputs and outputs are local paths or URLs (resources/settings.py); the warehouse is one
    DuckDB file, or the Parquet record under GEODEM_OUTPUT_DIR/warehouse when runs may be on
    several machines.
    """
    load_env_file()
    s = settings or Settings.from_env()
    warehouse = (
        ParquetWarehouse(path=s.warehouse, scratch=s.scratch_dir)
        if s.warehouse_kind == PARQUET_WAREHOUSE
        else Warehouse(path=s.warehouse)
    )
    return {
        "census": CensusSource(path=s.census_dir, unpack_dir=join(s.scratch_dir, "census")),
        "warehouse": warehouse,
        "outputs": OutputStore(root=s.output_dir, scratch=s.scratch_dir),
        "namer": namer_resource_from_env(),
        "userdays": UserdaySource(
            path=s.userdays_csv,
            study_country=s.study_country,
            # GEODEM_COUNTRIES_FILE (any file) wins over GEODEM_COUNTRY_LAYER (a vendored layer).
            countries_path=s.countries_file or str(countries_path(s.country_layer)),
        ),
        "hll": hll_resource_from_env(),
    }
