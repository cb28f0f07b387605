"""vs-listening-kit build and aggregate from the command line."""

from __future__ import annotations

import csv

from tests.scoring.sounds import make_experiment
from vs_plugin.bin import listening_kit


def test_build_then_aggregate(tmp_path, capsys):
    exp = make_experiment(tmp_path / "e", {"tone": 3}, videos=True, seconds=1.0)
    kit = tmp_path / "kit"
    rc = listening_kit.main(
        [
            "build",
            "--infer",
            str(exp["infer"]),
            "--gt",
            str(exp["gt"]),
            "--data",
            str(exp["data"]),
            "--out",
            str(kit),
            "--seed",
            "1",
            "--base-url",
            "https://example.org/t/",
        ]
    )
    assert rc == 0
    captured = capsys.readouterr()
    assert "3 swapped test clips" in captured.err or "only 3" in captured.err
    with open(kit / "items.csv", newline="") as f:
        items = list(csv.DictReader(f))
    # 3 + 3 realism, 3 + 3 alignment, 3 timbre (each reference has one video here)
    assert len(items) == 15
    assert all(r["stimulus"].startswith("https://example.org/t/stimuli/") for r in items)
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("item_id,rating\n" + "".join(f"{r['item_id']},4\n" for r in items))
    rc = listening_kit.main(
        ["aggregate", str(ratings), "--key", str(kit / "key.csv"), "--out", str(tmp_path / "mos")]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "## realism" in out and "4.00" in out
    assert (tmp_path / "mos" / "mos.tsv").read_text().startswith("test\tsystem\tcategory")
    ratings.write_text("item_id,rating\nnope,4\n")
    rc = listening_kit.main(["aggregate", str(ratings), "--key", str(kit / "key.csv")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == (
        f"vs-listening-kit: error: {ratings}: row 2: item 'nope' is not in the key"
    )


def test_help_describes_the_commands(capsys):
    try:
        listening_kit.main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "build" in capsys.readouterr().out
