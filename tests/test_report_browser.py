"""The report in a real browser (headless Chromium from Debian's packages): every image
renders, the console has no error, no request leaves the machine; and the check itself
catches a page that breaks each of those. Needs chromium and chromedriver (`make browser`,
which `make test` runs); CI sets LEARNSCOPE_REQUIRE_BROWSER=1 so that their absence fails."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from learnscope import store
from learnscope.browser import browser_paths, check_page, is_external
from learnscope.errors import LearnscopeError
from learnscope.studies import STUDIES


@pytest.fixture(scope="module")
def chromium():
    try:
        return browser_paths()
    except LearnscopeError as error:
        if os.environ.get("LEARNSCOPE_REQUIRE_BROWSER"):
            raise
        pytest.skip(str(error))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_report_renders_offline_with_every_figure(chromium, pipeline_repo: Path, tmp_path):
    index = pipeline_repo / store.REPORT_INDEX
    check = check_page(index, screenshot=tmp_path / "report.png")
    assert check.problems() == []
    studies = [line.split("'")[1] for line in index.read_text().splitlines() if line.startswith("<section id='")]
    assert len(studies) >= 6 and len(check.images) == sum(len(STUDIES[s].figures) for s in studies)
    assert all(width > 100 for _, width in check.images)
    assert _png_size(tmp_path / "report.png") == (1280, 1400)


def test_the_check_catches_a_broken_image_a_console_error_and_a_request_out(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><meta charset='utf-8'><img alt='remote' src='http://example.com/x.png'>"
                    "<img alt='missing' src='missing.png'><script>console.error('boom')</script>")
    check = check_page(page)
    assert [width for _, width in check.images] == [0, 0]
    assert check.external_requests == ["http://example.com/x.png"]
    assert any("boom" in message for message in check.console_errors)
    assert len(check.problems()) >= 4


def test_only_network_schemes_to_other_hosts_leave_the_machine():
    assert is_external("https://cdn.example.org/vega.js") and is_external("ws://10.0.0.2:80/")
    assert not is_external("file:///tmp/index.html") and not is_external("data:image/png;base64,AA==")
    assert not is_external("http://localhost:8000/x") and not is_external("chrome-untrusted://new-tab-page/")
