"""A real headless Chromium for the browser tests (Debian's ``chromium`` + ``chromium-driver``).

``chromium(tmp_path)`` yields a Selenium driver whose downloads land in ``tmp_path/downloads``;
the tests that use it are skipped, with the reason, only when the browser is not installed
(``tools/install.sh`` installs it). Screenshots for the docs are written to
``$VS_SCREENSHOT_DIR`` when it is set (``VS_SCREENSHOT_DIR=docs/img``).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("VS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("VS_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
)
PHONE = (390, 844)  # CSS pixels of a current phone's portrait screen


def require_chromium() -> None:
    """Skip the calling test when Debian's Chromium or its driver is not installed."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.skip(
            f"needs Chromium and chromedriver ({', '.join(missing)} not found; "
            "tools/install.sh installs the apt packages chromium and chromium-driver)"
        )


@contextmanager
def chromium(tmp_path: Path, size: tuple[int, int] = (1100, 900), mobile: bool = False) -> Iterator:
    """A headless Chromium with a fresh profile; files it downloads go to tmp_path/downloads.

    ``mobile``: emulate a phone of ``size`` CSS pixels (touch, device pixel ratio 2), since a
    headless window is never narrower than 500 px.
    """
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    opts.add_argument(f"--window-size={size[0]},{size[1]}")
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        if mobile:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": size[0], "height": size[1], "deviceScaleFactor": 2, "mobile": True},
            )
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> object:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")


def downloaded(folder: Path, pattern: str, timeout: float = 20.0) -> Path:
    """The finished download matching ``pattern`` (Chromium writes *.crdownload first)."""

    def done() -> Path | None:
        hits = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        return hits[0] if hits else None

    return wait_for(done, timeout, f"a download {pattern} in {folder}")  # type: ignore[return-value]


def screenshot(driver, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    """Save a PNG of the window (``full_page``: the whole page) under tmp_path, and in
    $VS_SCREENSHOT_DIR when set."""
    import base64

    path = tmp_path / name
    if full_page:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1},
            },
        )  # fmt: skip
        path.write_bytes(base64.b64decode(shot["data"]))
    else:
        assert driver.save_screenshot(str(path)), f"Chromium could not save {name}"
    if os.environ.get("VS_SCREENSHOT_DIR"):
        dest = Path(os.environ["VS_SCREENSHOT_DIR"]) / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return path
