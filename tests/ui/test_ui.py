"""End to end through the UI: runs launched over GraphQL on a PostgreSQL instance, pages read in Chromium."""

import json

import pytest

from geodem_cli.webserver import graphql, run_details
from tests.ui.conftest import REGION

pytestmark = [pytest.mark.ui, pytest.mark.postgres]

GROUP_LINEAGE = "/locations/definitions.py/asset-groups/geodemographics/lineage"


def _regions() -> list[str]:
    from partitions.definitions import region_partitions

    return region_partitions.get_partition_keys()


def _geodem_asset_names() -> list[str]:
    from geodem_assets.defs import assets

    return [a.key.to_user_string() for a in assets]


def _by(xpath: str):
    from selenium.webdriver.common.by import By

    return (By.XPATH, xpath)


def _text_is(text: str) -> str:
    return f"//*[normalize-space()='{text}']"


def test_runs_events_and_asset_keys_land_in_postgres(ui_stack, completed_runs):
    import psycopg2
    from dagster import DagsterEventType

    census_run, region_run = completed_runs["census_release_job"], completed_runs["geodem_region_job"]
    region_assets = [n for n in _geodem_asset_names() if n != "census_release"]
    with psycopg2.connect(ui_stack.database.libpq_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT run_id, pipeline_name, status, partition FROM runs WHERE run_id = ANY(%s)",
            ([census_run, region_run],),
        )
        assert sorted(cur.fetchall()) == sorted(
            [
                (census_run, "census_release_job", "SUCCESS", None),
                (region_run, "geodem_region_job", "SUCCESS", REGION),
            ]
        )
        # The instance is shared with the backfill test: look at the geodem assets only.
        cur.execute(
            "SELECT run_id, asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
            "AND asset_key = ANY(%s)",
            ([json.dumps([n]) for n in _geodem_asset_names()],),
        )
        materialized = sorted(cur.fetchall())
        assert materialized == sorted(
            [(census_run, json.dumps(["census_release"]), None)]
            + [(region_run, json.dumps([n]), REGION) for n in region_assets]
        )
        # Run events keep their historical names in storage (RUN_SUCCESS is stored as PIPELINE_SUCCESS).
        cur.execute(
            "SELECT run_id, count(*) FROM event_logs WHERE dagster_event_type = %s AND run_id = ANY(%s) GROUP BY run_id",
            (DagsterEventType.RUN_SUCCESS.value, [census_run, region_run]),
        )
        assert sorted(cur.fetchall()) == sorted([(census_run, 1), (region_run, 1)])
        cur.execute(
            "SELECT asset_key, last_run_id FROM asset_keys WHERE last_materialization_timestamp IS NOT NULL AND asset_key = ANY(%s)",
            ([json.dumps([n]) for n in _geodem_asset_names()],),
        )
        last_runs = dict(cur.fetchall())
    assert last_runs == {
        json.dumps([n]): census_run if n == "census_release" else region_run for n in _geodem_asset_names()
    }


def _shown_as(name: str, label: str) -> bool:
    """Whether a graph node label is the asset name or the UI's middle truncation of it."""
    if label == name:
        return True
    head, sep, tail = label.partition("…")
    return bool(sep) and len(head) >= 3 and len(tail) >= 3 and name.startswith(head) and name.endswith(tail)


def test_asset_graph_shows_every_geodem_asset(browser, completed_runs, screenshot):
    from selenium.webdriver.support import expected_conditions as ec

    browser.open(GROUP_LINEAGE)
    node = "//*[local-name()='foreignObject']//div[not(*)][normalize-space()='{}']"
    for name in ("supergroups", "region_matrix", "census_release"):
        browser.wait(60, f"graph node {name}").until(ec.visibility_of_element_located(_by(node.format(name))))
    # Statuses arrive after the layout: a materialised, unpartitioned asset turns its node green.
    green = (
        "//*[local-name()='foreignObject']//div[contains(@style, '--minimal-border: var(--color-accent-green)')]"
        "[.//div[not(*)][normalize-space()='census_release']]"
    )
    browser.wait(60, "census_release's node to show it is materialised").until(
        ec.visibility_of_element_located(_by(green))
    )
    labels = [
        e.text.strip()
        for e in browser.driver.find_elements(*_by("//*[local-name()='foreignObject']//div[not(*)]"))
    ]
    missing = [n for n in _geodem_asset_names() if not any(_shown_as(n, label) for label in labels)]
    assert not missing, f"assets not drawn in the geodemographics graph: {missing}; node labels: {labels}"
    screenshot("graph")
    browser.remember_source()


def test_supergroups_partition_of_the_region_is_materialized(browser, completed_runs, screenshot):
    from selenium.webdriver.support import expected_conditions as ec

    regions = _regions()
    assert REGION in regions
    browser.open("/assets/supergroups?view=partitions")
    for label in ("Materialized (1)", f"Missing ({len(regions) - 1})", "Failed (0)"):
        browser.wait(60, f"the partition filter '{label}'").until(
            ec.visibility_of_element_located(_by(_text_is(label)))
        )
    # Each partition row: the (middle-truncating) name, then a status dot coloured by the partition's state.
    dot = "//div[@title='{}']/parent::*/following-sibling::div[contains(@style, 'border-radius: 100%')]"
    colours = {}
    for region in regions:
        element = browser.wait(20, f"partition row {region}").until(
            ec.presence_of_element_located(_by(dot.format(region)))
        )
        colours[region] = element.get_attribute("style")
    assert [r for r, style in colours.items() if "--color-accent-green" in style] == [REGION], colours
    browser.driver.find_element(*_by(f"//div[@title='{REGION}']")).click()
    browser.wait(20, "the partition's detail").until(ec.url_contains(f"partition={REGION}"))
    run_link = f"//a[contains(@href, '/runs/{completed_runs['geodem_region_job']}')]"
    browser.wait(30, "the link to the region run").until(ec.visibility_of_element_located(_by(run_link)))
    detail = browser.body_text()
    assert "Materialized" in detail and "geodem_region_job" in detail, detail[:2000]
    screenshot("supergroups_partitions")
    browser.remember_source()


def test_supergroups_map_metadata_renders_as_png(browser, completed_runs, screenshot):
    from selenium.webdriver.support import expected_conditions as ec

    browser.open("/assets/supergroups")
    latest = f"//*[normalize-space()='Latest materialization']/following::*[normalize-space()='{REGION}']"
    browser.wait(60, "the latest materialization's partition").until(
        ec.visibility_of_element_located(_by(latest))
    )
    show = "//tr[td[1][normalize-space()='map']]//a[normalize-space()='[Show Markdown]']"
    browser.wait(30, "the map metadata entry").until(ec.element_to_be_clickable(_by(show))).click()
    img = browser.wait(30, "the map picture").until(
        ec.visibility_of_element_located(
            _by("//*[@role='dialog']//img[starts-with(@src, 'data:image/png;base64,')]")
        )
    )
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    width = browser.wait(20, "the map picture to decode").until(lambda d: d.execute_script(loaded, img))
    assert width > 0 and img.get_property("naturalHeight") > 0
    screenshot("supergroups_map")
    browser.remember_source()


def test_database_password_reaches_no_page_run_config_or_log(browser, ui_stack, completed_runs):
    from selenium.webdriver.support import expected_conditions as ec

    password = ui_stack.database.password
    assert password in ui_stack.env["DAGSTER_PG_URL"]
    browser.open("/deployment/config")
    browser.wait(60, "the instance configuration").until(
        ec.visibility_of_element_located(_by("//*[contains(normalize-space(), 'PostgresRunStorage')]"))
    )
    browser.remember_source()
    browser.open(f"/runs/{completed_runs['geodem_region_job']}")
    browser.wait(60, "the run's config button").until(
        ec.element_to_be_clickable(_by("//button[normalize-space()='View tags and config']"))
    ).click()
    browser.wait(30, "the run config dialog").until(
        ec.visibility_of_element_located(_by("//*[@role='dialog']//*[contains(normalize-space(), 'n_init')]"))
    )
    browser.remember_source()
    assert len(browser.sources) >= 2
    leaked = [url for url, html in browser.sources.items() if password in html]
    assert not leaked, f"the DAGSTER_PG_URL password is in the HTML of {leaked}"

    for job, run_id in completed_runs.items():
        run = run_details(ui_stack.base_url, run_id)
        assert password not in json.dumps(run), (
            f"the password is in the GraphQL view of the {job} run {run_id}"
        )
    region = run_details(ui_stack.base_url, completed_runs["geodem_region_job"])
    assert "k: 5" in region["runConfigYaml"]
    info = graphql(ui_stack.base_url, "{ instance { info } }")["instance"]["info"]
    assert "PostgresRunStorage" in info and password not in info
    for service in (ui_stack.webserver, ui_stack.daemon):
        assert password not in service.log.read_text(errors="replace"), (
            f"the password is in the log of {service.args[0]}"
        )


def test_cluster_names_page_shows_the_named_classification_without_a_click(
    browser, completed_runs, screenshot
):
    """A data engineer reads the supergroups and subgroups, their names and sizes, on the asset page."""
    from selenium.webdriver.support import expected_conditions as ec

    from tests.ui.pages import asset_page_path

    browser.open(asset_page_path("cluster_names", REGION))
    header = "//table//*[normalize-space()='pct_population']"
    browser.wait(90, "the classification table's header").until(ec.visibility_of_element_located(_by(header)))
    rows = browser.driver.find_elements(
        *_by("//tr[td[1][normalize-space()='classification']]//table//tr[td]")
    ) or browser.driver.find_elements(*_by("//table[.//*[normalize-space()='pct_population']]//tr[td]"))
    cells = [[td.text.strip() for td in row.find_elements(*_by("./td"))] for row in rows]
    by_code = {c[1]: c for c in cells if len(c) >= 7}
    assert {"A", "A1", "B", "B1"} <= set(by_code), cells[:20]
    for code in ("A", "A1", "B", "B1"):
        level, _, name, oas = by_code[code][:4]
        assert level == ("supergroup" if len(code) == 1 else "subgroup") and name and int(oas) > 0, by_code[
            code
        ]
    assert "[Show" not in " ".join(" ".join(c) for c in cells)
    screenshot("cluster_names_classification")
