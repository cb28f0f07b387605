"""Every ``vs-*`` command ends the same way: a user error is one line and exit 2, a bug keeps
its traceback, Ctrl-C exits 130 quietly (``vs_plugin.bin.cli``)."""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from vs_plugin.bin import cli
from vs_plugin.errors import ConfigError, InputError, OutputError
from vs_plugin.registry import RegistryError

REPO = Path(__file__).resolve().parents[2]


def one_line(capsys) -> str:
    """The command's stderr, which must be exactly one line."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- the wrapper itself -------------------------------------------------------------------


def raising(exc: BaseException) -> cli.Main:
    @cli.command("vs-test")
    def main(argv: list[str] | None = None) -> int:
        raise exc

    return main


@pytest.mark.parametrize(
    "exc, message",
    [
        (InputError("clip.mp4", "no video stream"), "clip.mp4: no video stream"),
        (ConfigError("--window 0: too small"), "--window 0: too small"),
        (OutputError("out.wav", "no space left on device"), "out.wav: no space left on device"),
        (RegistryError("unknown scorer 'x'; known: mcd"), "unknown scorer 'x'; known: mcd"),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "a/wav.scp"),
         "a/wav.scp: No such file or directory"),
        (PermissionError(errno.EACCES, "Permission denied", "dump"), "dump: Permission denied"),
        (OSError(errno.ENOSPC, "No space left on device", "x.npy"),
         "x.npy: No space left on device"),
        (InputError("f.wav", "ffmpeg said:\n  bad header\n\n  truly"),
         "f.wav: ffmpeg said: bad header truly"),
    ],
)  # fmt: skip
def test_user_errors_are_one_line_and_exit_2(capsys, exc, message):
    assert raising(exc)([]) == 2
    assert one_line(capsys) == f"vs-test: error: {message}"


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("boom"),
        ValueError("a plain ValueError is a bug"),
        KeyError("utt"),
        OSError(errno.EIO, "Input/output error", "x"),  # not about the user's file
        FileNotFoundError("raised without a file name"),
    ],
)
def test_anything_else_keeps_its_traceback(capsys, exc):
    with pytest.raises(type(exc)):
        raising(exc)([])
    assert capsys.readouterr().err == ""


def test_ctrl_c_exits_130_quietly(capsys):
    assert raising(KeyboardInterrupt())([]) == 130
    assert capsys.readouterr().err == ""


def test_argparse_exits_pass_through():
    with pytest.raises(SystemExit) as exc:
        raising(SystemExit(2))([])
    assert exc.value.code == 2


def test_the_hydra_form_exits(capsys):
    with pytest.raises(SystemExit) as exc, cli.exit_on_user_errors("vs-test"):
        raise InputError("dump/train/feats_shape", "missing")
    assert exc.value.code == 2
    assert one_line(capsys) == "vs-test: error: dump/train/feats_shape: missing"
    with pytest.raises(RuntimeError), cli.exit_on_user_errors("vs-test"):
        raise RuntimeError("a bug")
    with pytest.raises(SystemExit) as exc, cli.exit_on_user_errors("vs-test"):
        raise KeyboardInterrupt
    assert exc.value.code == 130


def test_a_model_that_will_not_load_names_its_source(tmp_path):
    with pytest.raises(InputError, match="not a model folder") as err:
        cli.load_model(tmp_path / "nowhere", "cpu")  # no folder, no fairseq2 card either
    assert str(err.value).startswith(f"{tmp_path / 'nowhere'}: ")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="missing from the exported model folder") as err:
        cli.load_model(tmp_path / "empty", "cpu")
    assert str(err.value).startswith(str(tmp_path / "empty"))


# --- every command ------------------------------------------------------------------------

# (module, argv for an input error under tmp_path, what the line must name)
INPUT_ERRORS: list[tuple[str, Callable[[Path], list[str]], Callable[[Path], str]]] = [
    ("list_components", lambda t: ["nonesuch"], lambda t: "'nonesuch'"),
    (
        "prepare_data",
        lambda t: ["--corpus", "nonesuch", "--out-data", str(t / "d"), "--out-media", str(t / "m")],
        lambda t: "'nonesuch'",
    ),
    (
        "extract_features",
        lambda t: ["--data", str(t / "nodata"), "--out", str(t / "dump")],
        lambda t: str(t / "nodata"),
    ),
    (
        "infer",
        lambda t: ["--model", str(t / "nope"), "--data", str(t), "--dump", str(t),
                   "--out", str(t / "out"), "--device", "cpu"],
        lambda t: str(t / "nope"),
    ),
    (
        "vocode",
        lambda t: ["--in", str(t / "nope"), "--vocoder", "griffin_lim"],
        lambda t: str(t / "nope" / "mel.scp"),
    ),
    (
        "vocode",
        lambda t: ["--in", str(t), "--vocoder", "nonesuch"],
        lambda t: "'nonesuch'",
    ),
    (
        "score",
        lambda t: ["--infer", str(t / "i"), "--data", str(t / "nodata"), "--out", str(t / "o"),
                   "--scorers", "mcd"],
        lambda t: str(t / "nodata"),
    ),
    (
        "score",
        lambda t: ["--infer", str(t / "i"), "--data", str(t), "--out", str(t / "o"),
                   "--scorers", "nonesuch"],
        lambda t: "'nonesuch'",
    ),
    (
        "listening_kit",
        lambda t: ["aggregate", str(t / "r.csv"), "--key", str(t / "nokey.csv")],
        lambda t: str(t / "nokey.csv"),
    ),
    (
        "generate",
        lambda t: ["--model", str(t / "nope"), "--video", str(t / "v.mp4"),
                   "--reference", str(t / "r.wav"), "--output", str(t / "o.mp4"),
                   "--device", "cpu"],
        lambda t: str(t / "nope"),
    ),
    (
        "demo",
        lambda t: ["--model", str(t / "nope"), "--port", "0", "--device", "cpu"],
        lambda t: str(t / "nope"),
    ),
    (
        "ablation_table",
        lambda t: ["--variant", "full=x", "--gt", str(t), "--data", str(t / "nodata"),
                   "--out", str(t / "a.md")],
        lambda t: str(t / "nodata"),
    ),
    (
        "seeds_report",
        lambda t: ["--exp", str(t / "s1"), str(t / "s2"), "--out", str(t / "o")],
        lambda t: str(t / "s1" / "scores"),
    ),
    (
        "join_cascade",
        lambda t: ["--video-to-sound", str(t / "nope"), "--converter", str(t / "nope2"),
                   "--out", str(t / "c")],
        lambda t: str(t / "nope"),
    ),
]  # fmt: skip

PROGS = {
    "list_components": "vs-list",
    "prepare_data": "vs-prepare-data",
    "extract_features": "vs-extract-features",
    "infer": "vs-infer",
    "vocode": "vs-vocode",
    "score": "vs-score",
    "listening_kit": "vs-listening-kit",
    "generate": "vs-generate",
    "demo": "vs-demo",
    "ablation_table": "vs-ablation-table",
    "join_cascade": "vs-join-cascade",
    "seeds_report": "vs-seeds-report",
}

# (module, what to break, argv under tmp_path): a function each command calls early
BUGS: list[tuple[str, str, Callable[[Path], list[str]]]] = [
    ("list_components", "vs_plugin.registry.Registry.names", lambda t: ["decoder"]),
    ("prepare_data", "vs_plugin.bin.prepare_data.PrepareConfig",
     lambda t: ["--corpus", "vas", "--out-data", str(t / "d")]),
    ("extract_features", "vs_plugin.bin.extract_features.ExtractConfig",
     lambda t: ["--data", str(t), "--out", str(t / "dump")]),
    ("infer", "vs_plugin.bin.infer.sweep_temporaries",
     lambda t: ["--model", "m", "--data", str(t), "--dump", str(t), "--out", str(t / "o")]),
    ("vocode", "vs_plugin.bin.vocode.sweep_temporaries", lambda t: ["--in", str(t)]),
    ("score", "vs_plugin.bin.score.sweep_temporaries",
     lambda t: ["--infer", str(t), "--data", str(t), "--out", str(t / "o")]),
    ("listening_kit", "vs_plugin.bin.listening_kit.read_key",
     lambda t: ["aggregate", str(t / "r.csv"), "--key", str(t / "key.csv")]),
    ("generate", "vs_plugin.infer.single.check_output",
     lambda t: ["--model", "m", "--video", "v.mp4", "--reference", "r.wav",
                "--output", str(t / "o.mp4")]),
    ("demo", "vs_plugin.bin.generate.load_pipeline", lambda t: ["--model", "m", "--port", "0"]),
    ("ablation_table", "vs_plugin.bin.ablation_table.read_data_dir",
     lambda t: ["--variant", "full=x", "--gt", str(t), "--data", str(t), "--out", str(t / "a")]),
    ("seeds_report", "vs_plugin.bin.seeds_report.seed_means",
     lambda t: ["--exp", str(t / "a"), str(t / "b"), "--out", str(t / "o")]),
    ("join_cascade", "vs_plugin.bin.join_cascade.load_model",
     lambda t: ["--video-to-sound", "a", "--converter", "b", "--out", str(t / "c")]),
]  # fmt: skip


def test_every_argparse_command_is_covered():
    here = {p.stem for p in (REPO / "vs_plugin" / "bin").glob("*.py")}
    commands = here - {"__init__", "cli", "train"}  # train: the Hydra app, tested below
    assert commands == set(PROGS) == {m for m, *_ in INPUT_ERRORS} == {m for m, *_ in BUGS}


def _main(module: str) -> cli.Main:
    if module == "demo":
        pytest.importorskip("bottle")
    return importlib.import_module(f"vs_plugin.bin.{module}").main


@pytest.mark.parametrize(
    "module, argv, named", INPUT_ERRORS, ids=[f"{m}-{i}" for i, (m, *_) in enumerate(INPUT_ERRORS)]
)
def test_an_input_error_is_one_line_naming_it_and_exit_2(tmp_path, capsys, module, argv, named):
    main = _main(module)
    assert main(argv(tmp_path)) == 2
    line = one_line(capsys)
    assert line.startswith(f"{PROGS[module]}: error: ") and named(tmp_path) in line


@pytest.mark.parametrize("module, target, argv", BUGS, ids=[m for m, *_ in BUGS])
def test_an_unexpected_exception_keeps_its_traceback(
    tmp_path, capsys, monkeypatch, module, target, argv
):
    main = _main(module)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not the user's input")

    monkeypatch.setattr(target, broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(argv(tmp_path))
    assert "error:" not in capsys.readouterr().err


def test_ctrl_c_in_a_command_exits_130_quietly(capsys, monkeypatch):
    from vs_plugin.bin import list_components

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr("vs_plugin.registry.Registry.names", interrupted)
    assert list_components.main(["decoder"]) == 130
    assert capsys.readouterr().err == ""


# --- vs-train (Hydra) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "exc, status",
    [(InputError("dump/train/feats_shape", "missing"), 2), (ConfigError("train.amp: x"), 2)],
)
def test_train_user_errors_are_one_line_and_exit_2(capsys, monkeypatch, exc, status):
    from vs_plugin.bin import train

    def failing(cfg):
        raise exc

    monkeypatch.setattr(train, "train", failing)
    with pytest.raises(SystemExit) as code:
        train.main.__wrapped__(OmegaConf.create({}))  # the task function, without Hydra's CLI
    assert code.value.code == status
    assert one_line(capsys) == f"vs-train: error: {exc}"


def test_train_a_diverged_run_is_one_line_and_exit_1_a_bug_a_traceback(capsys, monkeypatch):
    from vs_plugin.bin import train
    from vs_plugin.train.engine import NonFiniteLossError

    def diverged(cfg):
        raise NonFiniteLossError("loss is nan at iteration 3")

    monkeypatch.setattr(train, "train", diverged)
    with pytest.raises(SystemExit) as code:
        train.main.__wrapped__(OmegaConf.create({}))
    assert code.value.code == 1 and "nan at iteration 3" in one_line(capsys)

    def buggy(cfg):
        raise RuntimeError("a bug")

    monkeypatch.setattr(train, "train", buggy)
    with pytest.raises(RuntimeError, match="a bug"):
        train.main.__wrapped__(OmegaConf.create({}))


# --- the installed console scripts, as a shell runs them ------------------------------------


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def test_console_script_input_error(tmp_path):
    script = Path(sys.executable).parent / "vs-vocode"
    if not script.exists():
        pytest.skip("vs_plugin's console scripts are not installed beside this Python")
    proc = subprocess.run(
        [str(script), "--in", str(tmp_path / "nope"), "--vocoder", "griffin_lim"],
        capture_output=True, text=True, env=_env(), timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"vs-vocode: error: {tmp_path / 'nope' / 'mel.scp'}: No such file or directory"
    )


def test_a_bug_in_a_real_process_prints_its_traceback_and_exits_1():
    code = (
        "import sys\n"
        "from vs_plugin import registry\n"
        "from vs_plugin.bin import list_components\n"
        "def names(self):\n"
        "    raise RuntimeError('a bug')\n"
        "registry.Registry.names = names\n"
        "sys.exit(list_components.main(['decoder']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "RuntimeError: a bug" in proc.stderr
