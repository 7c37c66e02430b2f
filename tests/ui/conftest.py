"""Fixtures of the UI test: a PostgreSQL-backed Dagster instance, webserver + daemon, headless Chromium."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import yaml

from tests.ui.webserver import Service, error_report, free_port, run_details, wait_for_server_info

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "ui"
REGION = "liverpool-city-region"
SCREENSHOTS: list[Path] = []
RUN_TIMEOUT_S = 300
REGION_CONFIG = {"ops": {"supergroups": {"config": {"k": 5, "n_init": 10}},
                         "subgroups": {"config": {"subgroups": [2, 2, 2, 2, 2], "n_init": 5}},
                         "cluster_diagnostics": {"config": {"n_init": 5}}}}

# Variables of a developer's shell that would point the webserver at other data, another instance or the network.
_INHERITED_PREFIXES = ("GEODEM_", "DAGSTER_", "OPENAI_")


@dataclass(frozen=True)
class DagsterDatabase:
    """A database for Dagster's storage; `sqlalchemy_url` carries `password`, `libpq_url` is for psycopg2."""

    name: str
    libpq_url: str
    sqlalchemy_url: str
    password: str


@dataclass
class UiStack:
    """The running webserver and daemon, and what they were started with."""

    base_url: str
    port: int
    env: dict
    webserver: Service
    daemon: Service
    database: DagsterDatabase


def _url_for(server_url: str, dbname: str, scheme: str, password: str) -> str:
    parts = urlsplit(server_url)
    user = quote(parts.username or "postgres", safe="")
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit((scheme, netloc, f"/{dbname}", parts.query, ""))


@pytest.fixture(scope="package")
def dagster_database(pg_server_url):
    """A fresh `dagster_ui_<hex>` database for instance storage, dropped WITH (FORCE) afterwards.

    Under trust authentication libpq ignores the password, so a made-up one still connects
    and gives the leak checks a string that must never reach a page.
    """
    import psycopg2

    name = f"dagster_ui_{uuid.uuid4().hex[:10]}"
    password = urlsplit(pg_server_url).password or f"ui-secret-{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield DagsterDatabase(name=name, password=password,
                              libpq_url=_url_for(pg_server_url, name, "postgresql", password),
                              sqlalchemy_url=_url_for(pg_server_url, name, "postgresql+psycopg2", password))
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _dagster_home(root: Path) -> Path:
    home = root / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    url_source = (config.get("storage") or {}).get("postgres", {}).get("postgres_url")
    if url_source != {"env": "DAGSTER_PG_URL"}:
        raise AssertionError(f"dagster.yaml: expected storage.postgres.postgres_url to be {{env: DAGSTER_PG_URL}}, found {url_source!r}")
    return home


@pytest.fixture(scope="package")
def ui_stack(dagster_database):
    """dagster-webserver and dagster-daemon on the repo's workspace, a small census and temp outputs."""
    from sample_data.census import write_sample_census

    root = Path(tempfile.mkdtemp(prefix="geodem-ui-"))
    census = root / "census"
    write_sample_census(census, regions=[REGION], seed=1, scale=0.2, noise=0.02, supergroups=[1, 3, 4, 5, 8])
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_PREFIXES)}
    env.update(
        DAGSTER_HOME=str(_dagster_home(root)),
        DAGSTER_PG_URL=dagster_database.sqlalchemy_url,
        GEODEM_CENSUS_DIR=str(census),
        GEODEM_OUTPUT_DIR=str(root / "outputs"),
        GEODEM_WAREHOUSE=str(root / "warehouse.duckdb"),
        GEODEM_USERDAYS_CSV=str(root / "userdays.csv"),
        # Few ranges keep the backfill test short; the mechanism is the same for 16 or 256.
        GEODEM_USER_RANGES="4",
    )
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workspace = str(REPO / "workspace.yaml")
    started: list[Service] = []
    try:
        webserver = Service(["dagster-webserver", "-h", "127.0.0.1", "-p", str(port), "-w", workspace], env, REPO,
                            root / "webserver.log")
        started.append(webserver)
        wait_for_server_info(base_url, webserver, timeout=120)
        # Only now: the webserver has created the storage tables, so the daemon does not race it.
        daemon = Service(["dagster-daemon", "run", "-w", workspace], env, REPO, root / "daemon.log")
        started.append(daemon)
        yield UiStack(base_url=base_url, port=port, env=env, webserver=webserver, daemon=daemon,
                      database=dagster_database)
    finally:
        for service in started:
            service.terminate()
        for service in started:
            service.stop()
            # Kept beside the screenshots: the run workers log their steps through the daemon.
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(service.log, ARTIFACTS / service.log.name)
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
        raise AssertionError(f"{job} run {run_id} is {status.value} after at most {RUN_TIMEOUT_S} s; error events:\n"
                             f"{report}\n--- daemon log ---\n{stack.daemon.tail()}")
    return run_id


@pytest.fixture(scope="module")
def completed_runs(ui_stack) -> dict[str, str]:
    """Run ids by job: census_release_job, then geodem_region_job on one region, both launched through GraphQL."""
    from dagster_graphql import DagsterGraphQLClient

    client = DagsterGraphQLClient("127.0.0.1", port_number=ui_stack.port)
    runs = {"census_release_job": _launch_and_wait(client, ui_stack, "census_release_job")}
    runs["geodem_region_job"] = _launch_and_wait(client, ui_stack, "geodem_region_job", tags={"dagster/partition": REGION},
                                                 run_config=REGION_CONFIG)
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
        skip = (By.XPATH, "//*[normalize-space()='Join the Dagster community']"
                          "/ancestor::*[.//button[normalize-space()='Skip']][1]//button[normalize-space()='Skip']")
        self.wait(30, "the 'Join the Dagster community' dialog").until(ec.element_to_be_clickable(skip)).click()
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
            raise AssertionError(f"timed out waiting for {self._what} on {self._browser.driver.current_url}; page text:\n{text}") from None


@pytest.fixture(scope="module")
def browser(ui_stack):
    """Headless Chromium (Debian's chromium + chromedriver) with a throwaway profile."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.skip("chromium and chromedriver are not installed (make system-deps)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="geodem-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # No internet here: without the background-networking flags Chromium stalls on refused connections.
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1600,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(chromedriver), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield Browser(driver, ui_stack.base_url)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


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
