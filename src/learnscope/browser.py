"""Load a page in a real browser (headless Chromium from the system's packages, driven by
Selenium through chromedriver) and say what a reader would see go wrong: images that did not
render, console errors, and requests that leave the machine.

``python -m learnscope.browser results/report/index.html --screenshot docs/report.png``
checks the report and saves a screenshot of its top; exit status 1 lists the problems.
Chromium runs with background networking off, so the only requests are the page's own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from learnscope.errors import LearnscopeError

NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}  # others (file, data, chrome-untrusted...) stay inside
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars")


@dataclasses.dataclass(frozen=True)
class PageCheck:
    """What loading one page showed: each image's alt text and natural width (0 = not
    rendered), console messages at error level, and URLs requested off the machine."""

    images: list[tuple[str, int]]
    console_errors: list[str]
    external_requests: list[str]

    def problems(self) -> list[str]:
        return ([f"image {alt!r} did not render" for alt, width in self.images if width <= 0]
                + [f"console error: {message}" for message in self.console_errors]
                + [f"request leaves the machine: {url}" for url in self.external_requests])


def browser_paths() -> tuple[str, str]:
    """Chromium and chromedriver, or a LearnscopeError saying how to install them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise LearnscopeError("headless Chromium not found: install Debian's chromium and chromium-driver "
                              "(`make browser`, as root)")
    return chromium, driver


def is_external(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in NETWORK_SCHEMES and parsed.hostname not in LOCAL_HOSTS


def _driver(width: int, height: int, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(chromedriver))


def _requests(performance_log: list[dict]) -> list[str]:
    urls = []
    for entry in performance_log:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def check_page(path: str | Path, screenshot: str | Path | None = None, width: int = 1280,
               height: int = 1400) -> PageCheck:
    """Load the page at ``path`` (a file), wait until it and its images have loaded, and report
    what went wrong; ``screenshot``: a PNG of the first ``width`` x ``height`` pixels."""
    url = Path(path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="learnscope-chromium-") as profile:
        driver = _driver(width, height, profile)
        try:
            driver.set_page_load_timeout(60)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",  # the viewport, not the window
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            driver.get(url)
            driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null))).then(done);")
            images = [(alt, int(w)) for alt, w in driver.execute_script(
                "return Array.from(document.images).map(i => [i.alt, i.naturalWidth]);")]
            console = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            requests = _requests(driver.get_log("performance"))
            if screenshot is not None:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(screenshot))
        finally:
            driver.quit()
    return PageCheck(images, console, [u for u in requests if is_external(u)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m learnscope.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("page", help="an HTML file, e.g. results/report/index.html")
    parser.add_argument("--screenshot", help="save a PNG of the page's top here")
    args = parser.parse_args(argv)
    if not Path(args.page).is_file():
        print(f"learnscope: {args.page}: no such file (run `make run` first)", file=sys.stderr)
        return 2
    try:
        check = check_page(args.page, args.screenshot)
    except LearnscopeError as error:
        print(f"learnscope: {error}", file=sys.stderr)
        return 2
    for problem in check.problems():
        print(f"{args.page}: {problem}", file=sys.stderr)
    print(f"{args.page}: {len(check.images)} images, {len(check.problems())} problems")
    return 1 if check.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
