"""The cluster namer as a Dagster resource: OpenAI when a key is configured, offline otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from resources.namers.base import ClusterNamer
from resources.namers.cache import NameCache
from resources.namers.offline import OfflineNamer
from resources.namers.openai_namer import OpenAINamer
from resources.settings import Settings

DEFAULT_MODEL = "gpt-5-mini"


class ClusterNamerResource(dg.ConfigurableResource):
    """Names clusters with the OpenAI Responses API if `openai_api_key` is set, else offline."""

    openai_api_key: str | None = Field(
        default=None, repr=False, description="OpenAI API key; leave unset for the offline namer."
    )
    model: str = Field(default=DEFAULT_MODEL, description="Responses API model.")
    base_url: str | None = Field(default=None, description="API base URL; unset for api.openai.com.")
    cache_dir: str = Field(description="Folder of the name cache (names.json).")
    timeout: float = Field(default=60.0, description="Seconds per API request.")
    max_retries: int = Field(default=4, description="Retries of timeouts, 429 and 5xx per request.")

    def namer(self) -> ClusterNamer:
        if not self.openai_api_key:
            return OfflineNamer()
        return OpenAINamer(
            api_key=self.openai_api_key,
            model=self.model,
            base_url=self.base_url,
            cache=NameCache(Path(self.cache_dir) / "names.json"),
            timeout=self.timeout,
            max_retries=self.max_retries,
        )


def namer_resource_from_env() -> ClusterNamerResource:
    """OPENAI_API_KEY (as an EnvVar, never its value), GEODEM_LLM_MODEL, OPENAI_BASE_URL; the name
    cache in the local scratch folder (GEODEM_OUTPUT_DIR/cache unless the outputs are in an object store)."""
    return ClusterNamerResource(
        openai_api_key=dg.EnvVar("OPENAI_API_KEY") if os.environ.get("OPENAI_API_KEY") else None,
        model=os.environ.get("GEODEM_LLM_MODEL") or DEFAULT_MODEL,
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        cache_dir=Settings.from_env().scratch_dir,
    )
