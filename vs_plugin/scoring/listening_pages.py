"""Pages that present a listening-test kit to raters: a local browser test and an MTurk HIT.

``index.html`` is a static, self-contained page (no server, no network) that plays the kit's
``stimuli/`` from beside it: a listener enters an id, rates every item on the paper's rubrics
in an order shuffled per listener (within each test), and at the end the page saves
``ratings_<listener>.csv`` (``listener_id,item_id,test,rating,...``), which
``vs-listening-kit aggregate`` reads. Progress is kept in the browser's local storage.

``mturk/hit.html`` is a HIT layout for Amazon Mechanical Turk (one item per HIT) and
``mturk/input.csv`` its batch file; the service's results CSV (``Input.item_id``,
``Answer.rating``) is read by the same ``aggregate``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from vs_plugin.utils.files import write_text_atomic

TEST_TITLES = {
    "realism": "Audio realism",
    "alignment": "Temporal alignment",
    "timbre": "Timbre similarity",
}
KIT_PLACEHOLDER = "/*KIT_JSON*/"
RUBRICS_PLACEHOLDER = "/*RUBRICS_JSON*/"


def _template(name: str) -> str:
    return resources.files("vs_plugin.scoring").joinpath("web", name).read_text(encoding="utf-8")


def _script_json(value: object) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``</`` or ``<!--``)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def rubric_table(
    rubrics: Mapping[str, tuple[str, Sequence[str]]],
) -> dict[str, dict[str, object]]:
    """test -> {title, intro, scale: [[5, meaning], ..., [1, meaning]]} (best score first)."""
    out: dict[str, dict[str, object]] = {}
    for test, (intro, meanings) in rubrics.items():
        out[test] = {
            "title": TEST_TITLES.get(test, test.capitalize()),
            "intro": intro,
            "scale": [[len(meanings) - i, m] for i, m in enumerate(meanings)],
        }
    return out


def kit_id(items: Sequence[Mapping[str, str]]) -> str:
    """A short hash of the items: keys the listeners' saved progress to this kit."""
    text = json.dumps([[r["item_id"], r["stimulus"]] for r in items])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def listening_page(
    items: Sequence[Mapping[str, str]],
    rubrics: Mapping[str, tuple[str, Sequence[str]]],
    test_order: Sequence[str],
) -> str:
    """The HTML of the local test.

    ``items``: rows with ``item_id``, ``test``, ``stimulus`` and ``reference`` (paths
    relative to the page, ``reference`` empty when the test has none).
    """
    data = {
        "kit": kit_id(items),
        "test_order": [t for t in test_order if any(r["test"] == t for r in items)],
        "tests": rubric_table(rubrics),
        "items": [
            {
                "id": r["item_id"],
                "test": r["test"],
                "stimulus": r["stimulus"],
                "reference": r.get("reference", ""),
            }
            for r in items
        ],
    }
    return _template("listening.html").replace(KIT_PLACEHOLDER, _script_json(data))


def mturk_hit(rubrics: Mapping[str, tuple[str, Sequence[str]]]) -> str:
    """The HIT layout; MTurk fills ``${item_id}``, ``${test}``, ``${stimulus}``, ``${reference}``.
    """
    return _template("mturk_hit.html").replace(
        RUBRICS_PLACEHOLDER, _script_json(rubric_table(rubrics))
    )


def write_pages(
    out_dir: str | Path,
    local_items: Sequence[Mapping[str, str]],
    hosted_items: Sequence[Mapping[str, str]],
    rubrics: Mapping[str, tuple[str, Sequence[str]]],
    test_order: Sequence[str],
) -> list[Path]:
    """Write ``index.html``, ``mturk/hit.html`` and ``mturk/input.csv``; return their paths.

    ``local_items`` point at the stimuli relative to ``out_dir``; ``hosted_items`` carry the
    URLs raters of a crowdsourcing service fetch (the kit's ``--base-url``).
    """
    out_dir = Path(out_dir)
    page = out_dir / "index.html"
    write_text_atomic(page, listening_page(local_items, rubrics, test_order))
    hit = out_dir / "mturk" / "hit.html"
    write_text_atomic(hit, mturk_hit(rubrics))
    buf = io.StringIO()
    columns = ["item_id", "test", "stimulus", "reference"]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(hosted_items)
    batch = out_dir / "mturk" / "input.csv"
    write_text_atomic(batch, buf.getvalue())
    return [page, hit, batch]
