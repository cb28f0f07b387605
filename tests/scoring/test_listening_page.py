"""The kit's browser listening test, driven in a real headless Chromium, and its MTurk HIT.

A listener rates every item (with a reload half-way), the page refuses to finish while an item
is unrated, the saved CSV goes through ``vs-listening-kit aggregate``, and the MOS it prints
must be the means of the ratings the test gave.
"""

from __future__ import annotations

import csv
import json
import math
import random
import time
from collections import defaultdict

import numpy as np
import pytest
from scipy import stats

from tests.browser import PHONE, chromium, downloaded, screenshot, wait_for
from tests.scoring.sounds import make_experiment
from vs_plugin.bin import listening_kit
from vs_plugin.scoring.listening import RUBRICS, TESTS, read_key


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    exp = make_experiment(root, {"tone": 3, "noise": 2}, videos=True, seconds=1.0)
    out = root / "listening_test"
    rc = listening_kit.main(
        ["build", "--infer", str(exp["infer"]), "--gt", str(exp["gt"]), "--data",
         str(exp["data"]), "--timbre-infer", str(exp["timbre"]), "--out", str(out),
         "--base-url", "https://cdn.example.org/kit/"]
    )  # fmt: skip
    assert rc == 0
    return out


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _current(driver) -> str:
    return driver.find_element("id", "item").get_attribute("data-item")


def _rate(driver, score: int) -> None:
    driver.find_element("css selector", f"#scale input[value='{score}']").click()


def _next(driver):
    return driver.find_element("id", "next")


def _start(driver, kit, listener: str) -> None:
    driver.get((kit / "index.html").as_uri())
    box = driver.find_element("id", "listener")
    box.clear()
    box.send_keys(listener)
    driver.find_element("id", "begin").click()
    wait_for(lambda: driver.find_element("id", "item").is_displayed(), what="the first item")


def _media_loaded(driver) -> bool:
    """The visible player (and the reference, when shown) has loaded its file's metadata."""
    return driver.execute_script(
        "const ok = (el) => el.hidden || el.closest('[hidden]') || el.readyState >= 1;"
        "return ['stimulus-audio', 'stimulus-video', 'reference']"
        "  .every((id) => ok(document.getElementById(id)));"
    )


def test_a_listener_rates_everything_and_the_mos_matches(kit, tmp_path):
    key = read_key(kit / "key.csv")
    items = _rows(kit / "items.csv")
    rng = random.Random(5)
    given: dict[str, int] = {}
    t0 = time.perf_counter()
    with chromium(tmp_path) as driver:
        _start(driver, kit, "L01")
        order = []
        while True:
            item = _current(driver)
            order.append(item)
            test = key[item]["test"]
            assert (
                driver.find_element("id", "test-title")
                .text.lower()
                .startswith(
                    {"realism": "audio realism", "alignment": "temporal", "timbre": "timbre"}[test]
                )
            )
            # the timbre test shows its reference; the others do not
            assert driver.find_element("id", "reference").is_displayed() == (test == "timbre")
            wait_for(lambda: _media_loaded(driver), what=f"the media of {item}")
            labels = driver.find_elements("css selector", "#scale label")
            assert [lab.text.split("\n")[0][0] for lab in labels] == ["5", "4", "3", "2", "1"]
            assert RUBRICS[test][1][0] in labels[0].text
            # a listener cannot go on without rating
            assert not _next(driver).is_enabled()
            if test == "timbre" and not (tmp_path / "listening_test.png").exists():
                _rate(driver, 4)
                screenshot(driver, tmp_path, "listening_test.png")
            given[item] = rng.randint(1, 5)
            _rate(driver, given[item])
            if len(order) == len(items):
                break
            if len(order) == len(items) // 2:  # a reload half-way resumes where it stopped
                driver.refresh()
                wait_for(lambda: driver.find_element("id", "item").is_displayed())
                assert _current(driver) == item
                _next(driver).click()
                continue
            _next(driver).click()
            wait_for(lambda prev=item: _current(driver) != prev, what="the next item")
        assert _next(driver).text == "Finish"
        # every item once, each test's items together, in the kit's test order
        assert sorted(order) == sorted(r["item_id"] for r in items)
        tests = [key[i]["test"] for i in order]
        assert tests == sorted(tests, key=TESTS.index)
        # an item that lost its rating (here: removed from the saved progress) blocks finishing
        hole = order[1]
        driver.execute_script(
            "const k = Object.keys(localStorage).find((k) => k.endsWith(':listener:L01'));"
            "const s = JSON.parse(localStorage.getItem(k));"
            "delete s.ratings[arguments[0]]; localStorage.setItem(k, JSON.stringify(s));",
            hole,
        )
        driver.refresh()
        wait_for(lambda: _current(driver) == order[-1], what="the resumed last item")
        _next(driver).click()
        assert _current(driver) == hole
        assert "not rated" in driver.find_element("id", "item-message").text
        assert not driver.find_element("id", "done").is_displayed()
        assert not list((tmp_path / "downloads").iterdir())
        _rate(driver, given[hole])
        while _current(driver) != order[-1]:
            _next(driver).click()
        _next(driver).click()
        saved = downloaded(tmp_path / "downloads", "ratings_L01*.csv")
        assert driver.find_element("id", "done").is_displayed()
        # another listener hears the same items in another order
        driver.find_element("id", "new-listener").click()
        _start(driver, kit, "L02")
        first_l02 = _current(driver)
        order_l02 = [first_l02]
        for _ in range(5):
            _rate(driver, 3)
            _next(driver).click()
            order_l02.append(_current(driver))
        assert order_l02 != order[:6]
    browser_s = time.perf_counter() - t0
    print(f"browser session: {browser_s:.1f} s for {len(items)} items")

    rows = _rows(saved)
    assert [r["item_id"] for r in rows] == order
    assert {r["listener_id"] for r in rows} == {"L01"}
    assert {r["item_id"]: int(r["rating"]) for r in rows} == given
    out = tmp_path / "mos"
    assert listening_kit.main(["aggregate", str(saved), "--key", str(kit / "key.csv"),
                               "--out", str(out)]) == 0  # fmt: skip
    expect = defaultdict(list)
    for item, score in given.items():
        expect[(key[item]["test"], key[item]["system"], key[item]["category"])].append(score)
    got = {(r["test"], r["system"], r["category"]): r for r in _rows_tsv(out / "mos.tsv")}
    for group, scores in expect.items():
        row = got[group]
        assert int(row["n"]) == len(scores)
        assert float(row["mos"]) == pytest.approx(np.mean(scores), abs=1e-5)
        if len(scores) > 1:
            half = (
                stats.t.ppf(0.975, len(scores) - 1)
                * np.std(scores, ddof=1)
                / math.sqrt(len(scores))
            )
            assert float(row["ci95"]) == pytest.approx(half, abs=1e-4)


def _rows_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def test_phone_sized_window(kit, tmp_path):
    """At 390 x 844 the page fits the width and the rating choices are full-width targets."""
    with chromium(tmp_path, size=PHONE, mobile=True) as driver:
        _start(driver, kit, "P1")
        width = driver.execute_script("return window.innerWidth")
        assert width <= PHONE[0]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        labels = driver.find_elements("css selector", "#scale label")
        assert all(lab.size["width"] > 0.8 * width - 40 for lab in labels)
        assert all(lab.size["height"] >= 40 for lab in labels)
        _rate(driver, 5)
        screenshot(driver, tmp_path, "listening_test_phone.png")


def test_mturk_hit_and_its_batch(kit, tmp_path):
    """The HIT asks for Answer.rating per Input.item_id, and aggregate reads MTurk's results."""
    batch = _rows(kit / "mturk" / "input.csv")
    items = _rows(kit / "items.csv")
    assert batch == items and all(r["stimulus"].startswith("https://") for r in batch)
    hit = (kit / "mturk" / "hit.html").read_text()
    for field in ("${item_id}", "${test}", "${stimulus}", "${reference}", "crowd-form"):
        assert field in hit
    rubrics = json.loads(hit.split("var RUBRICS = ", 1)[1].split(";\n", 1)[0])
    assert set(rubrics) == set(TESTS)
    assert [s for s, _ in rubrics["timbre"]["scale"]] == [5, 4, 3, 2, 1]
    results = tmp_path / "Batch_1_batch_results.csv"
    results.write_text(
        "HITId,WorkerId,Input.item_id,Input.test,Answer.item_id,Answer.rating\n"
        + "".join(
            f"H{i},W1,{r['item_id']},{r['test']},{r['item_id']},2\n" for i, r in enumerate(items)
        )
    )
    assert listening_kit.main(["aggregate", str(results), "--key", str(kit / "key.csv"),
                               "--out", str(tmp_path)]) == 0  # fmt: skip
    mos = _rows_tsv(tmp_path / "mos.tsv")
    assert mos and all(float(r["mos"]) == 2.0 for r in mos)
    assert sum(int(r["n"]) for r in mos if r["category"] == "Average") == len(items)


def test_mturk_hit_shows_each_items_rubric(kit, tmp_path):
    """The HIT as MTurk fills it in (its ${...} fields from the batch), one item per test."""
    batch = _rows(kit / "mturk" / "input.csv")
    hit = (kit / "mturk" / "hit.html").read_text()
    with chromium(tmp_path) as driver:
        for test in TESTS:
            row = next(r for r in batch if r["test"] == test)
            page = hit
            for name, value in row.items():
                page = page.replace("${" + name + "}", value)
            path = tmp_path / f"hit_{test}.html"
            path.write_text(page, encoding="utf-8")
            driver.get(path.as_uri())
            title = driver.find_element("id", "vs-title").text
            assert title.lower().split()[-1] in {"realism", "alignment", "similarity"}
            assert driver.find_element("id", "vs-intro").text == RUBRICS[test][0]
            choices = driver.find_elements("css selector", "input[name=rating]")
            assert [c.get_attribute("value") for c in choices] == ["5", "4", "3", "2", "1"]
            player = driver.find_element("css selector", "#vs-player > *")
            assert player.tag_name == ("video" if test == "alignment" else "audio")
            assert player.get_attribute("src") == row["stimulus"]
            shown = driver.find_element("id", "vs-reference").is_displayed()
            assert shown == (test == "timbre")
            assert driver.find_element("name", "item_id").get_attribute("value") == row["item_id"]
