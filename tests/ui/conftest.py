"""Fixtures of the UI test: a PostgreSQL-backed Dagster instance, webserver + daemon, headless Chromium."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from geodem_cli import stack as dagster_stack
from geodem_cli.stack import REPO, UiStack
from geodem_cli.webserver import error_report, run_details

ARTIFACTS = REPO / "test-artifacts" / "ui"
REGION = "liverpool-city-region"
SCREENSHOTS: list[Path] = []
RUN_TIMEOUT_S = 300
REGION_CONFIG = {
    "ops": {
        "supergroups": {"config": {"k": 5, "n_init": 10}},
        "subgroups": {"config": {"subgroups": [2, 2, 2, 2, 2], "n_init": 5}},
        "cluster_diagnostics": {"config": {"n_init": 5}},
    }
}


@pytest.fixture(scope="package")
def dagster_database(pg_server_url):
    """A fresh `dagster_ui_<hex>` database for instance storage (see geodem_cli.stack.dagster_database)."""
    with dagster_stack.dagster_database(pg_server_url) as database:
        yield database


@pytest.fixture(scope="package")
def ui_stack(dagster_database):
    """dagster-webserver and dagster-daemon on the repo's workspace, a small census and temp outputs."""
    from sample_data.census import write_sample_census

    root = Path(tempfile.mkdtemp(prefix="geodem-ui-"))
    census = root / "census"
    write_sample_census(census, regions=[REGION], seed=1, scale=0.2, noise=0.02, supergroups=[1, 3, 4, 5, 8])
    settings = dict(
        GEODEM_CENSUS_DIR=str(census),
        GEODEM_OUTPUT_DIR=str(root / "outputs"),
        GEODEM_WAREHOUSE=str(root / "warehouse.duckdb"),
        GEODEM_USERDAYS_CSV=str(root / "userdays.csv"),
        # Few ranges keep the backfill test short; the mechanism is the same for 16 or 256.
        GEODEM_USER_RANGES="4",
    )
    try:
        with dagster_stack.running_stack(dagster_database, root, settings, ARTIFACTS) as running:
            yield running
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _launch_and_wait(client, stack: UiStack, job: str, **submit) -> str:
    from dagster import DagsterRunStatus

    run_id = client.submit_job_execution(job, **submit)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = client.get_run_status(run_id)
    while status not in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
        status = client.get_run_status(run_id)
    if status != DagsterRunStatus.SUCCESS:
        report = error_report(run_details(stack.base_url, run_id))
        raise AssertionError(
            f"{job} run {run_id} is {status.value} after at most {RUN_TIMEOUT_S} s; error events:\n"
            f"{report}\n--- daemon log ---\n{stack.daemon.tail()}"
        )
    return run_id


@pytest.fixture(scope="module")
def completed_runs(ui_stack) -> dict[str, str]:
    """Run ids by job: census_release_job, then geodem_region_job on one region, both launched through GraphQL."""
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=ui_stack.port)
    runs = {"census_release_job": _launch_and_wait(client, ui_stack, "census_release_job")}
    runs["geodem_region_job"] = _launch_and_wait(
        client, ui_stack, "geodem_region_job", tags={"dagster/partition": REGION}, run_config=REGION_CONFIG
    )
    return runs


class Browser:
    """Headless Chromium on the webserver; keeps the HTML of every page it was asked to remember."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base_url = driver, base_url
        self.sources: dict[str, str] = {}
        self._dialog_dismissed = False

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        if not self._dialog_dismissed:
            self._skip_community_dialog()

    def _skip_community_dialog(self) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        # The dialog comes once per browser profile, on the first page.
        skip = (
            By.XPATH,
            "//*[normalize-space()='Join the Dagster community']"
            "/ancestor::*[.//button[normalize-space()='Skip']][1]//button[normalize-space()='Skip']",
        )
        self.wait(30, "the 'Join the Dagster community' dialog").until(
            ec.element_to_be_clickable(skip)
        ).click()
        self.wait(10, "the community dialog to close").until(ec.invisibility_of_element_located(skip))
        self._dialog_dismissed = True

    def wait(self, seconds: float, what: str):
        from selenium.webdriver.support.ui import WebDriverWait

        return _NamedWait(WebDriverWait(self.driver, seconds, poll_frequency=0.25), what, self)

    def remember_source(self) -> None:
        self.sources[self.driver.current_url] = self.driver.page_source

    def body_text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text


class _NamedWait:
    """WebDriverWait whose timeout names what was awaited, the URL and the visible text."""

    def __init__(self, wait, what: str, browser: Browser):
        self._wait, self._what, self._browser = wait, what, browser

    def until(self, condition):
        from selenium.common.exceptions import TimeoutException

        try:
            return self._wait.until(condition)
        except TimeoutException:
            text = self._browser.body_text()[:2000]
            raise AssertionError(
                f"timed out waiting for {self._what} on {self._browser.driver.current_url}; page text:\n{text}"
            ) from None


@contextmanager
def chromium(base_url: str) -> Iterator[Browser]:
    """Headless Chromium (Debian's chromium + chromedriver) at 1600x1000 with a throwaway profile, on `base_url`.

    Skips the test when chromium or chromedriver is missing (GEODEM_FORBID_SKIPS turns that into a failure).
    """
    chromium_bin, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium_bin and chromedriver):
        pytest.skip("chromium and chromedriver are not installed (make system-deps)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="geodem-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_bin
    # No internet here: without the background-networking flags Chromium stalls on refused connections.
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1600,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(chromedriver), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield Browser(driver, base_url)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(ui_stack):
    """Headless Chromium on the UI stack's webserver (see `chromium`)."""
    with chromium(ui_stack.base_url) as opened:
        yield opened


@pytest.fixture
def screenshot(browser, record_property):
    """save(name): a PNG of the browser in test-artifacts/ui/, its path recorded and listed after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        if not browser.driver.save_screenshot(str(path)):
            raise AssertionError(f"Chromium could not write the screenshot {path}")
        record_property(f"screenshot_{name}", str(path))
        SCREENSHOTS.append(path)
        return path

    return save


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS:
        terminalreporter.write_sep("-", "UI screenshots")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path.relative_to(REPO)))
