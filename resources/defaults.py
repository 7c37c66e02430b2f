"""The resources of both pipelines, chosen from the environment (embedded defaults otherwise)."""

from __future__ import annotations

from resources.census_source import CensusSource
from resources.country_layers import countries_path
from resources.hll_resource import hll_resource_from_env
from resources.namers.resource import namer_resource_from_env
from resources.output_store import OutputStore
from resources.settings import Settings, load_env_file
from resources.userday_source import UserdaySource
from resources.warehouse import Warehouse


def resources_from_env(settings: Settings | None = None) -> dict:
    """Every resource of both pipelines from the environment and the project's `.env` file."""
    load_env_file()
    s = settings or Settings.from_env()
    return {
        "census": CensusSource(path=str(s.census_dir), unpack_dir=str(s.output_dir / "cache" / "census")),
        "warehouse": Warehouse(path=str(s.warehouse)),
        "outputs": OutputStore(root=str(s.output_dir)),
        "namer": namer_resource_from_env(),
        "userdays": UserdaySource(
            path=str(s.userdays_csv),
            study_country=s.study_country,
            # GEODEM_COUNTRIES_FILE (any file) wins over GEODEM_COUNTRY_LAYER (a vendored layer).
            countries_path=s.countries_file or str(countries_path(s.country_layer)),
        ),
        "hll": hll_resource_from_env(),
    }
