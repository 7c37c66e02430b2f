"""ClusterNamerResource: OpenAI with a key, offline without; settings from the environment."""

from __future__ import annotations

import dagster as dg

from resources.namers import OfflineNamer, OpenAINamer
from resources.namers.resource import ClusterNamerResource, namer_resource_from_env
from tests.namers.conftest import SECRET_KEY


def test_without_a_key_the_namer_is_offline(tmp_path):
    assert isinstance(ClusterNamerResource(cache_dir=str(tmp_path)).namer(), OfflineNamer)


def test_with_a_key_the_namer_is_openai_with_a_cache_in_the_cache_dir(tmp_path):
    resource = ClusterNamerResource(openai_api_key=SECRET_KEY, model="gpt-5", cache_dir=str(tmp_path))
    namer = resource.namer()
    assert isinstance(namer, OpenAINamer) and namer.model == "gpt-5"
    assert namer.cache.path == tmp_path / "names.json"
    assert SECRET_KEY not in repr(resource) and SECRET_KEY not in repr(namer)


def test_settings_come_from_the_environment_and_the_key_stays_an_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    monkeypatch.setenv("GEODEM_LLM_MODEL", "gpt-5-nano")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", str(tmp_path))
    resource = namer_resource_from_env()
    assert SECRET_KEY not in repr(resource) and SECRET_KEY not in str(resource.__dict__)
    with dg.build_resources({"namer": resource}) as built:
        namer = built.namer.namer()
    assert isinstance(namer, OpenAINamer)
    assert (namer.model, namer.base_url) == ("gpt-5-nano", "http://127.0.0.1:9/v1")
    assert namer.cache.path == tmp_path / "cache" / "names.json"


def test_without_the_env_key_the_resource_is_offline(monkeypatch, tmp_path):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("GEODEM_LLM_MODEL", raising=False)
    monkeypatch.setenv("GEODEM_OUTPUT_DIR", str(tmp_path))
    resource = namer_resource_from_env()
    assert resource.model == "gpt-5-mini" and resource.openai_api_key is None
    with dg.build_resources({"namer": resource}) as built:
        assert isinstance(built.namer.namer(), OfflineNamer)
