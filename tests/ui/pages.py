"""Pages of the Dagster UI read in Chromium: is an asset's picture shown without a click?

Dagster 1.13.27 renders a Markdown metadata value inline only below 1000 characters; longer
values (any full-size base64 PNG) sit behind "[Show Markdown]". `picture_inline` opens the page
a data engineer would, saves a screenshot and says whether the picture is on it as drawn.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.ui.conftest import ARTIFACTS, SCREENSHOTS, Browser

# The value cell of the metadata row whose key cell reads exactly the label (asset overview,
# Events view and a partition's detail all draw metadata as a table of key | [timestamp |] value).
_ROW = "//tr[td[1][normalize-space()={label}]]"

_IMAGES = """
const [row, alt] = arguments;
return Array.from(row.querySelectorAll('img'))
  .filter(img => alt === null || img.alt === alt)
  .map(img => {
    const box = img.getBoundingClientRect();
    return {alt: img.alt, loaded: img.complete && img.naturalWidth > 0,
            width: box.width, height: box.height,
            in_dialog: img.closest('[role="dialog"]') !== null,
            hidden: getComputedStyle(img).visibility === 'hidden'};
  });
"""


@dataclass(frozen=True)
class PictureCheck:
    """Whether the picture is shown without a click; the screenshot and what was found. True when visible."""

    visible: bool
    screenshot: Path
    detail: str

    def __bool__(self) -> bool:
        return self.visible


def _xpath_literal(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{p}'" for p in parts) + ")"


def asset_page_path(asset_key: str, partition: str | None = None) -> str:
    """The UI path of an asset ("a/b" for a prefixed key): its overview, or a partition's detail."""
    path = "/assets/" + "/".join(quote(part, safe="") for part in asset_key.split("/"))
    if partition is None:
        return path
    return f"{path}?view=partitions&partition={quote(partition, safe='')}"


def picture_inline(
    browser: Browser,
    asset_key: str,
    label: str,
    *,
    alt: str | None = None,
    partition: str | None = None,
    name: str | None = None,
    timeout: float = 60,
    artifacts: Path = ARTIFACTS,
) -> PictureCheck:
    """Open an asset's page (overview, or `partition`'s detail) and say whether the picture is visible without a click.

    `label` is the metadata key holding the picture; `alt` picks one image of that entry by its
    alt text (None: any image). Visible means an <img> in that entry's row of the metadata table,
    outside any dialog, decoded (naturalWidth > 0) and drawn with a non-zero size. The row is
    scrolled into view and the page saved as `artifacts/<name>.png` (name defaults to
    asset_partition_label). Raises AssertionError when the metadata row does not appear within
    `timeout` seconds, so a missing key or a page that did not load is never read as "hidden".
    """
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.open(asset_page_path(asset_key, partition))
    row_xpath = _ROW.format(label=_xpath_literal(label))
    where = f"the metadata row {label!r} of {asset_key}" + (f" [{partition}]" if partition else "")
    row = browser.wait(timeout, where).until(ec.visibility_of_element_located((By.XPATH, row_xpath)))
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", row)
    # Data URIs decode at once; give a linked picture a moment to load before judging.
    with contextlib.suppress(AssertionError):
        browser.wait(10, f"the picture in {where} to load").until(
            lambda d: all(i["loaded"] for i in d.execute_script(_IMAGES, row, alt))
        )
    images = browser.driver.execute_script(_IMAGES, row, alt)
    shown = [
        i
        for i in images
        if i["loaded"] and not i["in_dialog"] and not i["hidden"] and i["width"] and i["height"]
    ]
    folded = [a.text for a in row.find_elements(By.XPATH, ".//a[starts-with(normalize-space(), '[Show')]")]
    artifacts.mkdir(parents=True, exist_ok=True)
    stem = name or "_".join(p for p in (asset_key.replace("/", "-"), partition, label) if p)
    path = artifacts / f"{stem}.png"
    if not browser.driver.save_screenshot(str(path)):
        raise AssertionError(f"Chromium could not write the screenshot {path}")
    SCREENSHOTS.append(path)
    wanted = f"image alt={alt!r}" if alt is not None else "an image"
    detail = (
        f"{where}: {wanted}; images in the row: {images}; "
        f"folded behind: {folded or 'nothing'}; screenshot: {path}"
    )
    return PictureCheck(visible=bool(shown), screenshot=path, detail=detail)
