"""The evaluation report page: content, escaping, bounded size, and a real browser."""

import importlib.util
import math
import os
import re
import shutil

import cv2
import numpy as np
import pytest

from pipeline.html_report import wilson_interval, write_html

CLASSES = ["brick", "grass", "<script>alert(1)</script>"]


def _images(root, n):
    """`n` small textured PNGs in `root`, each a different noise field."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        path = root / f'img "{i}".png'  # quotes in a file name must show as text
        cv2.imwrite(str(path), (rng.random((40, 60)) * 255).astype(np.uint8))
        paths.append(str(path))
    return paths


def _evaluation(root, n=30, seed=1):
    """Paths, true and predicted labels with a few mistakes, and confidences."""
    rng = np.random.default_rng(seed)
    paths = _images(root, n)
    y_true = [CLASSES[i % 3] for i in range(n)]
    y_pred = list(y_true)
    for i in (1, 4, 8):
        y_pred[i] = CLASSES[(CLASSES.index(y_true[i]) + 1) % 3]
    return paths, y_true, y_pred, rng.uniform(0.4, 1.0, n)


class TestWilsonInterval:
    @pytest.mark.parametrize("k, n", [(95, 100), (0, 10), (10, 10), (1, 3), (777, 810)])
    def test_bounds_solve_the_wilson_equation(self, k, n):
        # Wilson's bounds are the proportions b with (k/n - b)^2 = z^2 b (1 - b) / n.
        z, p = 1.959963984540054, k / n
        for b in wilson_interval(k, n):
            assert abs((p - b) ** 2 - z * z * b * (1 - b) / n) < 1e-14
        low, high = wilson_interval(k, n)
        assert 0 <= low <= p <= high <= 1 and high > low

    def test_refuses_no_predictions(self):
        with pytest.raises(ValueError):
            wilson_interval(0, 0)


class TestWriteHtml:
    def test_page_holds_the_figures_tables_and_mistakes(self, tmp_path):
        paths, y_true, y_pred, conf = _evaluation(tmp_path)
        page = write_html(tmp_path / "report.html", paths=paths, y_true=y_true, y_pred=y_pred, confidence=conf,
                          classes=CLASSES, model_info={"classes": 3}, command="texture evaluate x").read_text()
        low, high = wilson_interval(27, 30)
        assert f"0.9000 (95 % CI {low:.4f} - {high:.4f}, Wilson; 27 of 30)" in page
        assert "Mistakes (3)" in page
        # Three mistake thumbnails plus up to two least confident correct images a class.
        assert page.count("data:image/jpeg;base64,") == 3 + 6
        assert "<script>" in page and page.count("<script>") == 1  # ours, the sorting; never a label
        assert "http://" not in page and "https://" not in page  # nothing fetched

    def test_mistakes_are_shown_most_confident_first(self, tmp_path):
        paths, y_true, y_pred, conf = _evaluation(tmp_path)
        page = write_html(tmp_path / "r.html", paths=paths, y_true=y_true, y_pred=y_pred, confidence=conf,
                          classes=CLASSES).read_text()
        mistakes = page.split("Mistakes (3)")[1].split("<h2>")[0]
        shown = [float(c) for c in re.findall(r"confidence ([0-9.]+)", mistakes)]
        assert shown == sorted((round(conf[i], 3) for i in (1, 4, 8)), reverse=True)

    def test_labels_and_file_names_are_escaped(self, tmp_path):
        paths, y_true, y_pred, conf = _evaluation(tmp_path)
        page = write_html(tmp_path / "r.html", paths=paths, y_true=y_true, y_pred=y_pred, confidence=conf,
                          classes=CLASSES).read_text()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'img "1".png' not in page and "img &quot;1&quot;.png" in page  # a mistake: always shown

    def test_size_is_bounded_however_many_images(self, tmp_path):
        n = 2000
        paths = _images(tmp_path, 1) * n  # one file: the bound is on thumbnails, not reads
        y_true = [CLASSES[i % 3] for i in range(n)]
        y_pred = [CLASSES[(i + (i % 2)) % 3] for i in range(n)]  # half wrong
        page = write_html(tmp_path / "r.html", paths=paths, y_true=y_true, y_pred=y_pred,
                          confidence=np.linspace(0.3, 1, n), classes=CLASSES, max_mistakes=50)
        text = page.read_text()
        assert "and 950 more mistakes not shown" in text
        assert text.count("data:image/jpeg;base64,") == 50 + 6
        assert page.stat().st_size < 1_000_000

    def test_an_unreadable_image_is_said_not_fatal(self, tmp_path):
        paths, y_true, y_pred, conf = _evaluation(tmp_path)
        os.remove(paths[1])  # a mistake's image, moved since the evaluation
        page = write_html(tmp_path / "r.html", paths=paths, y_true=y_true, y_pred=y_pred, confidence=conf,
                          classes=CLASSES).read_text()
        assert "image not readable now" in page

    def test_grades_get_their_mean_absolute_error(self, tmp_path):
        paths = _images(tmp_path, 4)
        page = write_html(tmp_path / "r.html", paths=paths, y_true=[1, 1, 2, 2], y_pred=[1, 2, 2, 2],
                          confidence=[0.9, 0.6, 0.8, 0.7], classes=[1, 2], values=[1.0, 1.5, 2.0, 2.25]).read_text()
        section = page.split("Score against grade")[1]
        assert re.search(r"<td class=\"name\">1</td><td data-v=\"0.25\">0.250</td>", section)
        assert re.search(r"<td class=\"name\">2</td><td data-v=\"0.125\">0.125</td>", section)

    def test_refuses_misaligned_inputs(self, tmp_path):
        with pytest.raises(ValueError):
            write_html(tmp_path / "r.html", paths=["a"], y_true=["x", "y"], y_pred=["x", "y"],
                       confidence=[1, 1], classes=["x", "y"])


# --------------------------------------------------------------------------
# A real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_MISSING = (
    None if CHROMIUM and importlib.util.find_spec("playwright") else
    "needs a Chromium browser (Debian's 'chromium' package) and the playwright package (the [dev] extra)")


@pytest.fixture
def browser():
    if BROWSER_MISSING:
        # CI installs Chromium (.ci/run) and sets this: there the test must run, never skip.
        if os.environ.get("TEXTURE_REQUIRE_BROWSER") == "1":
            pytest.fail(BROWSER_MISSING)
        pytest.skip(BROWSER_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # The flags keep a headless Chromium off the network and usable as root.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.mark.slow
def test_page_renders_in_a_browser_and_sorts(tmp_path, browser):
    paths, y_true, y_pred, conf = _evaluation(tmp_path)
    page_path = write_html(tmp_path / "report.html", paths=paths, y_true=y_true, y_pred=y_pred,
                           confidence=conf, classes=CLASSES)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri())
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert errors == []
    assert page.locator("table.cm").first.is_visible()
    thumbs = page.locator("figure.thumb img")
    assert thumbs.count() == 9 and thumbs.first.is_visible()
    assert page.evaluate("() => document.querySelector('figure.thumb img').naturalWidth") > 0

    table = page.locator("table.sortable").first
    first_column = lambda: table.locator("tbody tr td:first-child").all_inner_texts()
    before = first_column()
    table.locator("thead th", has_text="recall").click()
    recalls = [float(v) for v in table.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert recalls == sorted(recalls)
    table.locator("thead th", has_text="class").click()
    by_name = first_column()
    assert by_name == sorted(by_name) and set(by_name) == set(before)
    table.locator("thead th", has_text="class").click()
    assert first_column() == by_name[::-1]
