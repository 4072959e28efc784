"""Templates: every shipped one validates and lays out; broken ones are reported precisely."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from omr.errors import LayoutError, TemplateError
from omr.layout import PAGE_H, PAGE_W, geometry, layout
from omr.template import list_templates, load_template, load_template_file, parse_template

DATA = Path(__file__).parent / "data"
SHIPPED = list_templates()


def test_templates_ship() -> None:
    assert {"sipas-2017", "hue-2017"} <= set(SHIPPED)
    assert any(name.startswith("hanoi-") for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_template_validates_and_fits(name: str) -> None:
    t = load_template(name)
    form = layout(t)  # raises LayoutError when anything overflows
    assert len(form.pages) == t.page_count
    laid_out = {f.id for p in form.pages for f in p.fields}
    assert laid_out == {q.id for _, q in t.questions()}
    if t.indices:
        for el in t.indices.elements:
            assert el.criteria


def _overlaps(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("name", SHIPPED + ["mini"])
def test_boxes_inside_page_and_apart(name: str) -> None:
    t = load_template(DATA / "mini-form.yaml") if name == "mini" else load_template(name)
    geo = geometry(t)
    for page in geo["pages"]:
        boxes = [tuple(o["box"]) for f in page["fields"] for o in f["options"]]
        assert boxes, "a page without boxes"
        for x, y, w, h in boxes:
            assert w >= 4.5 and h >= 4.5, "boxes are at least 4.5 mm"
            assert 10 <= x and x + w <= PAGE_W - 10 and 10 <= y and y + h <= 272
        for a, b in itertools.combinations(boxes, 2):
            assert not _overlaps(a, b), f"boxes {a} and {b} overlap"
        # markers and QR stay clear of every box
        reserved = [tuple(m["box"]) for m in page["markers"]] + [tuple(page["qr"]["box"])]
        for r in reserved:
            assert not any(_overlaps(r, b) for b in boxes)


def test_geometry_contract_keys() -> None:
    geo = geometry(load_template(DATA / "mini-form.yaml"))
    assert set(geo) >= {"template", "version", "pages"}
    page = geo["pages"][0]
    assert set(page) >= {"page", "width_mm", "height_mm", "fields"}
    kinds = {f["kind"] for f in page["fields"]}
    assert kinds == {"single", "multiple", "code", "text"}
    code = next(f for f in page["fields"] if f["kind"] == "code")
    assert sorted({o["digit"] for o in code["options"]}) == [0, 1, 2]
    assert sorted({o["value"] for o in code["options"]}) == list(range(10))


BROKEN = """id: broken
version: 1
title: "Phiếu"
option_sets:
  yn: [{value: 1, label: "Có"}, {value: 2, label: "Không"}]
pages:
  - sections:
      - questions:
          - {id: q1, text: "Câu 1", options: yn}
          - {id: q2, text: "Câu 2", options: nope}
"""


def test_unknown_option_set_names_file_and_place() -> None:
    with pytest.raises(TemplateError) as e:
        parse_template(BROKEN, "broken.yaml")
    msg = str(e.value)
    assert msg.startswith("broken.yaml: pages[0].sections[0].questions[1].options:")
    assert "nope" in msg


@pytest.mark.parametrize(
    ("patch", "where", "words"),
    [
        (("options: yn}\n          - {id: q2", "options: yn}\n          - {id: q1"), "questions[1].id", "duplicate"),
        (("version: 1", "version: zero"), "version", "integer"),
        (("{id: q1, text", "{id: Q-1, text"), "questions[0].id", "pattern"),
        (("kind", "kind"), None, None),
    ],
)
def test_errors_are_located(patch, where, words) -> None:
    text = BROKEN.replace("options: nope", "options: yn").replace(*patch)
    if where is None:
        assert parse_template(text, "x.yaml").id == "broken"
        return
    with pytest.raises(TemplateError) as e:
        parse_template(text, "x.yaml")
    assert where in e.value.where
    assert words in e.value.problem.lower()


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("id: bad\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        load_template_file(p)
    assert str(p) in str(e.value) and "line" in e.value.where


def test_criterion_must_be_single_choice() -> None:
    text = BROKEN.replace("options: nope", "options: yn") + "indices:\n  elements:\n    - {id: E1, name: A, criteria: [q9]}\n"
    with pytest.raises(TemplateError) as e:
        parse_template(text, "x.yaml")
    assert e.value.where == "indices.elements[0].criteria[0]" and "q9" in e.value.problem


def test_overflow_names_the_question() -> None:
    many = "\n".join(f"          - {{id: q{i}, text: \"Câu hỏi số {i}\", options: yn}}" for i in range(40))
    text = BROKEN.split("      - questions:")[0] + "      - questions:\n" + many + "\n"
    with pytest.raises(LayoutError) as e:
        layout(parse_template(text, "long.yaml"))
    assert "questions[" in e.value.where and "does not fit on page 1" in e.value.problem


def test_text_is_nfc() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Hài lòng")
    t = parse_template(BROKEN.replace("options: nope", "options: yn").replace('"Có"', f'"{decomposed}"'), "x.yaml")
    assert t.question("q1").option_list[0].label == "Hài lòng"


def test_printed_geometry_of_released_versions_never_moves() -> None:
    """Forms already printed are read with today's layout: a released version's boxes must stay put.

    If this fails after a layout change, either revert it or bump the template's
    version (the QR code carries it) and record the new geometry here.
    """
    import hashlib
    import json

    from omr.layout import LAYOUT_VERSIONS

    pinned = json.loads((DATA / "geometry-sha256.json").read_text())
    for name in SHIPPED:
        t = load_template(name)
        for lv in LAYOUT_VERSIONS:
            # layout 1 keeps its released keys ("sipas-2017@1"); later layouts add theirs ("sipas-2017@1/layout2")
            key = f"{t.id}@{t.version}" + ("" if lv == 1 else f"/layout{lv}")
            digest = hashlib.sha256(json.dumps(geometry(t, lv), sort_keys=True).encode()).hexdigest()
            assert key in pinned, f"{key} is new: add its geometry digest to tests/data/geometry-sha256.json"
            assert pinned[key] == digest, f"the printed geometry of {key} changed: printed forms would be misread"


def test_both_layouts_put_every_box_in_the_same_place() -> None:
    """Layout 2 adds the identity row and page-numbered markers; a box never moves between layouts."""
    for name in SHIPPED:
        t = load_template(name)
        g1, g2 = geometry(t, 1), geometry(t, 2)
        assert [p["fields"] for p in g1["pages"]] == [p["fields"] for p in g2["pages"]]
        assert "layout" not in g1 and g2["layout"] == 2
        for p in g2["pages"]:
            assert [m["id"] for m in p["markers"]] == [4 * p["page"] + k for k in range(4)]
            assert "id_row" in p
