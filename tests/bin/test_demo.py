"""``vs-demo`` in a real headless Chromium: upload a video and a reference, get the mp4 back.

The server is the demo's own app and generation pipeline (``make_app(make_generate(...))``,
what ``vs-demo`` serves) on a free port, with the tiny exported test model.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from wsgiref.simple_server import make_server

import numpy as np
import pytest
import soundfile as sf

from tests.browser import PHONE, chromium, screenshot, wait_for
from tests.infer.tinymodel import export_tiny
from tests.media import make_empty, make_video, tone
from vs_plugin.bin import demo, generate
from vs_plugin.demo.app import make_app
from vs_plugin.video.io import video_info

SECONDS = 2.0


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    model = export_tiny(root / "exp" / "model")
    examples = root / "examples"
    video = make_video(examples / "flashes.mp4", seconds=SECONDS, events=(0.4, 1.1, 1.6))
    reference = examples / "bell.wav"
    sf.write(reference, tone(1.5, 22050, (0.2, 0.8), freq=660.0), 22050)
    return {"model": model, "examples": examples, "video": video, "reference": reference,
            "root": root}  # fmt: skip


@pytest.fixture(scope="module")
def server(media):
    model, vocoder = generate.load_pipeline(str(media["model"]), "test_sine", "cpu")
    app = make_app(
        demo.make_generate(model, vocoder, 215, 43), media["root"] / "work", media["examples"]
    )
    httpd = make_server("127.0.0.1", 0, app, handler_class=demo._LogHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def _submit(driver):
    driver.find_element("id", "generate").click()
    wait_for(
        lambda: (
            driver.find_element("id", "result").is_displayed()
            or driver.find_element("id", "error").is_displayed()
        ),
        timeout=120,
        what="a result or an error",
    )


def test_upload_generate_and_get_the_mp4_back(server, media, tmp_path):
    t0 = time.perf_counter()
    with chromium(tmp_path) as driver:
        driver.get(server + "/")
        driver.find_element("id", "video").send_keys(str(media["video"]))
        driver.find_element("id", "reference").send_keys(str(media["reference"]))
        _submit(driver)
        assert not driver.find_element("id", "error").is_displayed(), driver.find_element(
            "id", "error"
        ).text
        # the page's player loads the returned mp4, of the video's duration
        duration = wait_for(
            lambda: driver.execute_script(
                "const v = document.getElementById('output');"
                "return v.readyState >= 1 ? v.duration : null;"
            ),
            what="the mp4's metadata in the player",
        )
        assert duration == pytest.approx(SECONDS, abs=0.1)
        mel = wait_for(
            lambda: driver.execute_script(
                "const i = document.getElementById('mel');"
                "return i.complete && i.naturalWidth > 0"
                "  ? [i.naturalWidth, i.naturalHeight] : null;"
            ),
            what="the mel panel",
        )
        assert mel[0] > 300 and mel[1] > 300
        src = driver.find_element("id", "output").get_attribute("src")
        wait_for(
            lambda: driver.execute_script(
                "return document.getElementById('output').readyState >= 2"
            )
        )
        screenshot(driver, tmp_path, "demo.png", full_page=True)
        # the file itself: an mp4 with the picture and the generated sound, both SECONDS long
        out = tmp_path / "out.mp4"
        with urllib.request.urlopen(src) as response:
            out.write_bytes(response.read())
        info = video_info(out)
        assert info.has_audio and info.duration == pytest.approx(SECONDS, abs=0.1)
        # a picked example instead of an upload works the same way
        driver.refresh()
        wait_for(lambda: len(driver.find_elements("css selector", "#reference_example option")) > 1)
        driver.find_element("id", "video").send_keys(str(media["video"]))
        driver.find_element("css selector", "#reference_example option[value='bell.wav']").click()
        _submit(driver)
        assert driver.find_element("id", "result").is_displayed()
    print(f"demo browser session: {time.perf_counter() - t0:.1f} s")


def test_bad_upload_shows_vs_generates_one_line_error(server, media, tmp_path, capsys):
    bad = make_empty(tmp_path / "broken.wav")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050 * 2, dtype=np.float32), 22050)
    with chromium(tmp_path) as driver:
        for ref in (bad, silent):
            driver.get(server + "/")
            driver.find_element("id", "video").send_keys(str(media["video"]))
            driver.find_element("id", "reference").send_keys(str(ref))
            _submit(driver)
            shown = driver.find_element("id", "error").text
            assert not driver.find_element("id", "result").is_displayed()
            # vs-generate on the same files says the same, naming the file it was given
            rc = generate.main(
                ["--video", str(media["video"]), "--reference", str(ref), "--output",
                 str(tmp_path / "x.mp4"), "--model", str(media["model"]), "--vocoder", "test_sine",
                 "--device", "cpu"]
            )  # fmt: skip
            line = capsys.readouterr().err.strip().splitlines()[-1]
            assert rc == 2 and line.startswith("vs-generate: error: ")
            expected = line.removeprefix("vs-generate: error: ").replace(str(ref), ref.name)
            assert shown == "error: " + expected
            assert "\n" not in shown and ref.name in shown
        driver.get(server + "/")
        driver.find_element("id", "video").send_keys(str(media["video"]))
        _submit(driver)  # no reference at all
        assert "no reference given" in driver.find_element("id", "error").text


def test_phone_sized_window(server, media, tmp_path):
    with chromium(tmp_path, size=PHONE, mobile=True) as driver:
        driver.get(server + "/")
        driver.find_element("id", "video").send_keys(str(media["video"]))
        driver.find_element("id", "reference").send_keys(str(media["reference"]))
        _submit(driver)
        width = driver.execute_script("return window.innerWidth")
        assert width <= PHONE[0]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        wait_for(lambda: driver.execute_script("return document.getElementById('mel').complete"))
        video_w = driver.find_element("id", "output").size["width"]
        assert 0.7 * width < video_w <= width
        screenshot(driver, tmp_path, "demo_phone.png")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert demo.main(["--model", str(tmp_path / "nope"), "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"vs-demo: error: {tmp_path / 'nope'}") and "\n" not in err
    with pytest.raises(SystemExit):
        demo.main([])  # no model
