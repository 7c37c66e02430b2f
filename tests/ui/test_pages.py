"""The screenshot check itself: it tells an inline picture from one folded behind "[Show Markdown]"."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from geodem_cli.stack import REPO
from geodem_cli.webserver import Service, free_port, wait_for_server_info
from tests.ui.conftest import ARTIFACTS, chromium
from tests.ui.pages import asset_page_path, picture_inline

pytestmark = pytest.mark.ui

LOCATION = Path(__file__).with_name("picture_location.py")


@pytest.fixture(scope="module")
def picture_server():
    """dagster-webserver on picture_location.py, the `north` partition materialised on a throwaway SQLite instance."""
    import os

    import dagster as dg

    from tests.ui import picture_location

    root = Path(tempfile.mkdtemp(prefix="geodem-ui-pictures-"))
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([picture_location.region_pictures], instance=instance, partition_key="north")
        assert result.success
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEODEM_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(home)
    port = free_port()
    server = Service(
        ["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-f", str(LOCATION), "-d", str(REPO)],
        env,
        home,
        root / "webserver-pictures.log",
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for_server_info(base_url, server, timeout=120)
        yield base_url
    finally:
        server.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(server.log, ARTIFACTS / server.log.name)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def picture_browser(picture_server):
    with chromium(picture_server) as opened:
        yield opened


def test_asset_page_paths():
    assert asset_page_path("supergroups") == "/assets/supergroups"
    assert (
        asset_page_path("geo/maps", "liverpool city")
        == "/assets/geo/maps?view=partitions&partition=liverpool%20city"
    )


def test_small_picture_is_inline_and_full_size_one_is_folded(picture_browser):
    small = picture_inline(
        picture_browser, "region_pictures", "sizes_inline", alt="sizes inline", partition="north"
    )
    assert small, small.detail
    assert small.screenshot.stat().st_size > 0
    full = picture_inline(
        picture_browser, "region_pictures", "sizes_full", alt="sizes full", partition="north"
    )
    assert not full, full.detail
    assert "[Show Markdown]" in full.detail
    # The wrong alt text finds nothing even in the row whose picture is shown.
    other = picture_inline(
        picture_browser,
        "region_pictures",
        "sizes_inline",
        alt="other",
        partition="north",
        name="pictures_wrong_alt",
    )
    assert not other, other.detail


def test_a_missing_metadata_row_is_an_error_not_a_hidden_picture(picture_browser):
    with pytest.raises(AssertionError, match="timed out waiting for the metadata row 'no_such_key'"):
        picture_inline(picture_browser, "region_pictures", "no_such_key", partition="north", timeout=5)
