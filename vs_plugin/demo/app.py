"""The demo's web application (Bottle, WSGI): one page, one generation endpoint, result files.

``GET /`` the page; ``GET /api/examples`` the example files that can be picked instead of
uploaded; ``POST /api/generate`` (multipart: ``video`` and ``reference``, each a file or, as
``video_example`` / ``reference_example``, the name of an example) runs the generation and
returns JSON ``{"video": url, "mel": url, "summary": str, "duration": s}``, or ``{"error":
"<file>: <problem>"}`` with status 400 for bad input (the one-line errors of ``vs-generate``,
naming the uploaded file by its own name); ``GET /files/<job>/<name>`` serves results (with
HTTP ranges, so the browser's player can seek).

The generation itself is injected (``Generate``), so the app knows nothing of models.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import bottle

from vs_plugin.bin.cli import user_message
from vs_plugin.errors import InputError

#: (video path, reference path, job folder) -> (output mp4, mel panel png, one-line summary)
Generate = Callable[[Path, Path, Path], tuple[Path, Path, str, float]]

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aac"}
MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # both files of one request together


def _safe_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


def list_examples(folder: Path | None) -> dict[str, list[str]]:
    """Example files of ``folder`` by kind: videos can be either input, audio only references."""
    if folder is None or not folder.is_dir():
        return {"videos": [], "references": []}
    files = sorted(p for p in folder.iterdir() if p.is_file())
    videos = [p.name for p in files if p.suffix.lower() in VIDEO_SUFFIXES]
    audio = [p.name for p in files if p.suffix.lower() in AUDIO_SUFFIXES]
    return {"videos": videos, "references": audio + videos}


def make_app(generate: Generate, work_dir: Path, examples: Path | None = None) -> bottle.Bottle:
    """The WSGI app; uploads and results live in ``work_dir/<job>/``."""
    app = bottle.Bottle()
    # Bottle keeps small uploaded parts in memory under one shared cap (MEMFILE_MAX, 100 kB by
    # default), so two ordinary files fail with "Memory limit reached": let a whole request fit.
    bottle.BaseRequest.MEMFILE_MAX = MAX_UPLOAD_BYTES + 2**20
    work_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()  # one generation at a time: the model is not shared across threads
    page = resources.files("vs_plugin.demo").joinpath("page.html").read_text(encoding="utf-8")

    def error(message: str) -> str:
        bottle.response.status = 400
        bottle.response.content_type = "application/json"
        return json.dumps({"error": message})

    def take(field: str, job: Path, names: dict[str, str]) -> Path:
        """The uploaded (or picked) file of ``field``, saved in the job folder."""
        upload = bottle.request.files.get(field)
        picked = bottle.request.forms.get(f"{field}_example", "")
        if upload is not None and upload.raw_filename:
            path = job / f"{field}{_safe_suffix(upload.raw_filename)}"
            upload.save(str(path))
            names[str(path)] = upload.raw_filename
            return path
        if picked:
            choices = list_examples(examples)["videos" if field == "video" else "references"]
            if picked not in choices or examples is None:
                raise InputError(picked, "not one of the examples")
            return examples / picked
        raise InputError(None, f"no {field} given: upload a file or pick an example")

    @app.get("/")
    def index() -> str:
        return page

    @app.get("/api/examples")
    def api_examples() -> dict:
        return list_examples(examples)

    @app.post("/api/generate")
    def api_generate() -> str:
        if (bottle.request.content_length or 0) > MAX_UPLOAD_BYTES:
            return error(f"upload larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        job_id = secrets.token_hex(8)
        job = work_dir / job_id
        job.mkdir()
        names: dict[str, str] = {}
        try:
            video = take("video", job, names)
            reference = take("reference", job, names)
            with lock:
                out, mel, summary, duration = generate(video, reference, job)
        except Exception as exc:
            message = user_message(exc)  # vs-generate's one line; a bug keeps its traceback
            if message is None:
                raise
            for saved, original in names.items():  # name the user's file, not our copy
                message = message.replace(saved, original)
            return error(message)
        bottle.response.content_type = "application/json"
        return json.dumps(
            {
                "video": f"/files/{job_id}/{out.name}",
                "mel": f"/files/{job_id}/{mel.name}",
                "summary": summary.replace(str(job) + "/", ""),
                "duration": duration,
            }
        )

    @app.get("/files/<job:re:[0-9a-f]{16}>/<name:re:[A-Za-z0-9_.-]+>")
    def files(job: str, name: str):
        return bottle.static_file(name, root=str(work_dir / job))

    return app
