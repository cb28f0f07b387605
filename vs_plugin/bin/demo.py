"""``vs-demo``: a local web page to try a trained model: upload a video and a reference, get
the video back with generated sound, and see the reference/output mels on one time axis.

  vs-demo --model egs/vas/exp/<tag>/model [--examples DIR] [--port 7860]

Needs the demo extra: ``pip install 'vs_plugin[demo]'`` (``tools/install.sh --with-demo``).
It serves on 127.0.0.1 only unless ``--host`` says otherwise, and makes no outside requests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from vs_plugin.bin.cli import command
from vs_plugin.data.cliargs import VOCODER_CONFIG_HELP, component_spec
from vs_plugin.errors import ConfigError, InputError

PROG = "vs-demo"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0].split(": ", 1)[1].replace("\n", " "),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model",
        default=os.environ.get("VS_MODEL"),
        help="exported model folder (exp/<tag>/model), its card.yaml, or a fairseq2 card name "
        "(default: $VS_MODEL, now %(default)s)",
    )
    p.add_argument("--examples", type=Path, help="a folder of videos/audio to pick from")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=7860, help="port (0: any free port)")
    p.add_argument("--work-dir", type=Path, help="uploads and results (default: a temp folder)")
    p.add_argument("--vocoder", default="hifigan", help="vocoder name (hifigan, griffin_lim)")
    p.add_argument(
        "--vocoder-config", nargs="*", default=[], metavar="K=V", help=VOCODER_CONFIG_HELP
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda:0...")
    p.add_argument("--window", type=int, default=215, help="video frames per generator window")
    p.add_argument("--overlap", type=int, default=43, help="cross-faded frames between windows")
    return p


def make_generate(model, vocoder, window: int, overlap: int):
    """The app's ``Generate``: ``vs-generate``'s pipeline, plus the mel panel of stage 5."""
    import torch

    from vs_plugin.infer.generation import GenerationConfig
    from vs_plugin.infer.single import generate_clip
    from vs_plugin.interfaces import ScoringItem
    from vs_plugin.scoring.figures import pair_figure, save_figure
    from vs_plugin.video.io import video_info

    gen = GenerationConfig(window=window, overlap=overlap)

    def generate(video: Path, reference: Path, job: Path) -> tuple[Path, Path, str, float]:
        out = job / "output.mp4"
        with torch.inference_mode():
            report = generate_clip(video, reference, out, model, vocoder, gen=gen)
        item = ScoringItem(
            utt=out.name,
            generated=out,
            category="generated",
            reference=reference,
            original=video if video_info(video).has_audio else None,
        )
        mel = save_figure(pair_figure(item, model.mel), job / "mel.png")
        return out, mel, report.summary(), report.duration

    return generate


@command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Serve the demo page until Ctrl-C (then 0); 2 for a bad option or a missing extra."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.model:
        parser.error("no model: pass --model or set VS_MODEL")
    try:
        from vs_plugin.demo.app import make_app
    except ImportError as exc:
        raise InputError(
            None,
            f"the demo needs its extra ({exc.name} is missing): "
            "pip install 'vs_plugin[demo]' or tools/install.sh --with-demo",
        ) from None
    from vs_plugin.bin.generate import load_pipeline
    from vs_plugin.utils.memory import fix_mmap_threshold

    fix_mmap_threshold()  # a long-running server: freed buffers go back to the system

    if args.examples is not None and not args.examples.is_dir():
        raise InputError(args.examples, "examples folder not found")
    vocoder_spec = component_spec(args.vocoder, args.vocoder_config)
    model, vocoder = load_pipeline(args.model, vocoder_spec, args.device)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="vs-demo."))
    app = make_app(make_generate(model, vocoder, args.window, args.overlap), work, args.examples)
    try:
        server = make_server(args.host, args.port, app, handler_class=_LogHandler)
    except OSError as exc:
        raise ConfigError(f"{args.host}:{args.port}: {exc.strerror}") from None
    print(f"{PROG}: serving on http://{args.host}:{server.server_port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # how the page is meant to be stopped: not an error
        pass
    finally:
        server.server_close()
    return 0


class _LogHandler(WSGIRequestHandler):
    """Request lines on stderr, prefixed with the program's name."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        sys.stderr.write(f"{PROG}: {self.address_string()} {format % args}\n")


if __name__ == "__main__":
    sys.exit(main())
