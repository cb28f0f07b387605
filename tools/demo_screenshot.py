#!/usr/bin/env python3
"""The README's demo screenshot: ``vs-demo`` with a trained model, in headless Chromium.

Serves the demo's own app and pipeline (as ``vs-demo`` does) on a free loopback port, uploads a
held-back video and a reference recording through the page, waits for the generated mp4 and
its mel panel, and saves a full-page PNG:

    tools/venv/bin/python -m tools.demo_screenshot --model egs/vas/exp/vas_tiny/model \\
        --video CLIP.mp4 --reference REF.wav --out docs/img/demo.png

Needs the demo extra (``tools/install.sh --with-demo``) and Chromium with its driver.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
from pathlib import Path
from wsgiref.simple_server import make_server


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="exported model dir")
    p.add_argument("--video", type=Path, required=True, help="a video the model never trained on")
    p.add_argument("--reference", type=Path, required=True, help="the reference recording")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument("--vocoder", default="hifigan")
    args = p.parse_args(argv)

    from tests.browser import chromium, screenshot, wait_for
    from vs_plugin.bin import demo, generate
    from vs_plugin.demo.app import make_app

    model, vocoder = generate.load_pipeline(args.model, args.vocoder, "cpu")
    with tempfile.TemporaryDirectory(prefix="vs_demo_shot_") as tmp:
        tmp_path = Path(tmp)
        examples = tmp_path / "examples"
        examples.mkdir()
        app = make_app(demo.make_generate(model, vocoder, 215, 43), tmp_path / "work", examples)
        httpd = make_server("127.0.0.1", 0, app, handler_class=demo._LogHandler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            with chromium(tmp_path) as driver:
                driver.get(f"http://127.0.0.1:{httpd.server_port}/")
                driver.find_element("id", "video").send_keys(str(args.video.resolve()))
                driver.find_element("id", "reference").send_keys(str(args.reference.resolve()))
                driver.find_element("id", "generate").click()
                wait_for(
                    lambda: driver.find_element("id", "result").is_displayed()
                    or driver.find_element("id", "error").is_displayed(),
                    timeout=300,
                    what="a result or an error",
                )
                error = driver.find_element("id", "error")
                if error.is_displayed():
                    print(f"demo_screenshot: the page says: {error.text}")
                    return 1
                wait_for(
                    lambda: driver.execute_script(
                        "const i = document.getElementById('mel');"
                        "return i.complete && i.naturalWidth > 0;"
                    ),
                    what="the mel panel",
                )
                shot = screenshot(driver, tmp_path, "demo.png", full_page=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, args.out)
        finally:
            httpd.shutdown()
            httpd.server_close()
    print(f"demo_screenshot: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
