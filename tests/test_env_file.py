"""A `.env` file supplies settings and the API key; the real environment wins over it."""

import os

from resources.defaults import resources_from_env
from resources.settings import ENV_FILE_VAR, Settings, load_env_file


def test_env_file_fills_unset_variables_and_the_environment_wins(tmp_path, monkeypatch):
    env = tmp_path / "project.env"
    env.write_text(
        "OPENAI_API_KEY=sk-from-env-file\nGEODEM_STUDY_COUNTRY=Austria\nGEODEM_USER_RANGES=64\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(ENV_FILE_VAR, str(env))
    for var in ("OPENAI_API_KEY", "GEODEM_STUDY_COUNTRY"):
        # setenv first so that monkeypatch restores the variable's absence after load_dotenv set it.
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setenv("GEODEM_USER_RANGES", "16")  # set in the shell: the file must not change it
    assert load_env_file() == env
    assert Settings.from_env().study_country == "Austria"
    assert os.environ["GEODEM_USER_RANGES"] == "16"
    namer = resources_from_env()["namer"]
    assert namer.openai_api_key is not None  # configured from the file, read as an EnvVar at run time
    assert "sk-from-env-file" not in repr(namer)


def test_the_env_file_test_leaves_no_key_behind():
    assert os.environ.get("OPENAI_API_KEY") != "sk-from-env-file"


def test_no_env_file_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_FILE_VAR, str(tmp_path / "absent.env"))
    before = dict(os.environ)
    assert load_env_file() is None
    assert dict(os.environ) == before
