"""The recognition core on rendered pages with marks of known meaning.

Marks are drawn here with OpenCV at the layout's box positions; the sample
generator (samples/) makes the varied, degraded pages the benchmarks use.
On failure, the page image is written next to the test's tmp_path for a look.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pdf2image import convert_from_bytes, convert_from_path

from omr.io import iter_pages
from omr.layout import layout
from omr.pipeline import ScanOptions, process_page
from omr.render import render_pdf
from omr.template import load_template

DATA = Path(__file__).parent / "data"
DPI = 200
PPM = DPI / 25.4
NO_OCR = ScanOptions(ocr=False)


@pytest.fixture(scope="module")
def mini():
    os.environ["OMR_TEMPLATE_PATH"] = str(DATA)
    return load_template("mini-form")


@pytest.fixture(scope="module")
def blank(mini, tmp_path_factory) -> np.ndarray:
    pdf = tmp_path_factory.mktemp("form") / "mini.pdf"
    render_pdf(mini, pdf, first_serial=123)
    return np.array(convert_from_path(str(pdf), dpi=DPI, grayscale=True)[0])


def _box(mini, field_id: str, value: int, digit: int | None = None):
    _, f = layout(mini).field(field_id)
    return next(o.box for o in f.options if o.value == value and (digit is None or o.digit == digit))


def _px(box):
    x, y, w, h = box
    return x * PPM, y * PPM, w * PPM, h * PPM


def cross(img, box, ink=40, scale=1.0, width=3):
    x, y, w, h = _px(box)
    cx, cy = x + w / 2, y + h / 2
    d = w / 2 * scale * 0.9
    cv2.line(img, (int(cx - d), int(cy - d)), (int(cx + d), int(cy + d)), ink, width)
    cv2.line(img, (int(cx + d), int(cy - d)), (int(cx - d), int(cy + d)), ink, width)


def tick(img, box, ink=40):
    x, y, w, h = _px(box)
    pts = np.array([[x + 0.15 * w, y + 0.55 * h], [x + 0.4 * w, y + 0.85 * h], [x + 0.95 * w, y + 0.1 * h]], np.int32)
    cv2.polylines(img, [pts], False, ink, 3)


def fill(img, box, ink=40):
    x, y, w, h = _px(box)
    cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), ink, -1)


def dot(img, box, ink=90):
    x, y, w, h = _px(box)
    cv2.circle(img, (int(x + w * 0.4), int(y + h * 0.6)), 3, ink, -1)


def ring(img, box, ink=40):
    x, y, w, h = _px(box)
    cv2.ellipse(img, (int(x + w / 2), int(y + h / 2)), (int(w * 0.85), int(h * 0.85)), 0, 0, 360, ink, 2)


def read(img, tmp_path=None):
    out = process_page(np.ascontiguousarray(img), source="t.png", index=0, options=NO_OCR)
    if tmp_path is not None:
        cv2.imwrite(str(tmp_path / "page.png"), img)
    return out.result


def test_clean_marks_read_exactly(mini, blank, tmp_path):
    img = blank.copy()
    cross(img, _box(mini, "gioi_tinh", 2))
    tick(img, _box(mini, "do_tuoi", 4))
    cross(img, _box(mini, "c01", 5), scale=2.2)  # a cross much bigger than the box
    fill(img, _box(mini, "c02", 1))  # a fill alone is the answer
    fill(img, _box(mini, "c03", 2))
    cross(img, _box(mini, "c03", 4))  # a correction: the crossed box counts
    cross(img, _box(mini, "cai_thien", 1))
    cross(img, _box(mini, "cai_thien", 3))
    for d, v in enumerate((0, 4, 7)):
        cross(img, _box(mini, "ma_don_vi", v, d))
    r = read(img, tmp_path)
    assert r.status == "ok" and r.template == "mini-form" and r.sheet == "000123" and r.page == 1
    got = {k: (f.value, f.status) for k, f in r.fields.items()}
    assert got["gioi_tinh"] == (2, "answered")
    assert got["do_tuoi"] == (4, "answered")
    assert got["c01"] == (5, "answered")
    assert got["c02"] == (1, "answered")
    assert got["c03"] == (4, "answered") and r.fields["c03"].reason == "correction"
    assert got["cai_thien"] == ([1, 3], "answered")
    assert got["ma_don_vi"] == ("047", "answered")
    assert got["y_kien"] == (None, "blank")
    for f in r.fields.values():
        assert 0.0 <= f.confidence <= 1.0


def test_ambiguous_marks_go_to_review(mini, blank, tmp_path):
    img = blank.copy()
    cross(img, _box(mini, "gioi_tinh", 1))
    cross(img, _box(mini, "gioi_tinh", 2))  # two marks
    dot(img, _box(mini, "do_tuoi", 3))  # a faint dot alone
    ring(img, _box(mini, "c01", 2))  # a ring drawn around a box
    r = read(img, tmp_path)
    assert r.fields["gioi_tinh"].status == "multiple"
    assert r.fields["do_tuoi"].status == "uncertain"
    assert r.fields["c01"].status == "uncertain"
    assert r.fields["c02"].status == "blank"


@pytest.mark.parametrize("ink", [40, 120, 150])  # black, ballpoint blue in gray, pencil
@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_orientation_and_ink(mini, blank, ink, rotation):
    img = blank.copy()
    cross(img, _box(mini, "c02", 3), ink=ink, width=2)
    tick(img, _box(mini, "gioi_tinh", 1), ink=ink)
    rot = {0: None, 90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[rotation]
    if rot is not None:
        img = cv2.rotate(img, rot)
    r = read(img)
    assert r.status == "ok"
    assert (r.fields["c02"].value, r.fields["c02"].status) == (3, "answered")
    assert (r.fields["gioi_tinh"].value, r.fields["gioi_tinh"].status) == (1, "answered")


def test_skew_noise_and_jpeg(mini, blank):
    img = blank.copy()
    cross(img, _box(mini, "c01", 4))
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.5, 0.97)
    img = cv2.warpAffine(img, m, (w, h), borderValue=255)
    rng = np.random.default_rng(1)
    img = np.clip(img.astype(np.int16) + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 40])
    img = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    r = read(img)
    assert r.status == "ok"
    assert (r.fields["c01"].value, r.fields["c01"].status) == (4, "answered")
    assert r.fields["c02"].status == "blank"


def test_one_marker_hidden_uses_affine(mini, blank):
    img = blank.copy()
    cross(img, _box(mini, "c03", 5))
    h, w = img.shape
    cv2.rectangle(img, (w - int(20 * PPM), h - int(20 * PPM)), (w, h), 255, -1)  # a stain over the BR marker
    out = process_page(np.ascontiguousarray(img), source="t.png", index=0, options=NO_OCR)
    r = out.result
    assert r.status == "ok" and r.warnings == []
    assert (r.fields["c03"].value, r.fields["c03"].status) == (5, "answered") and r.fields["c03"].confidence > 0.9
    assert r.alignment_quality is not None and 0.8 < r.alignment_quality < 1.0
    # the three markers fit every printed box: the fit is exact, not pulled towards two of them
    from omr.align import find_markers, fit

    a = fit(find_markers(img))
    assert a is not None and a.model == "affine" and a.rms_mm < 0.2


def test_one_bit_scan(mini, blank):
    img = blank.copy()
    cross(img, _box(mini, "c01", 2), ink=130)
    _, bw = cv2.threshold(img, 170, 255, cv2.THRESH_BINARY)
    r = read(bw)
    assert (r.fields["c01"].value, r.fields["c01"].status) == (2, "answered")


def test_blank_and_foreign_pages_are_unrecognized_not_lost():
    white = np.full((2000, 1400), 250, np.uint8)
    r = read(white)
    assert r.status == "unrecognized" and "blank" in r.error
    rng = np.random.default_rng(3)
    junk = white.copy()
    for _ in range(40):
        x, y = rng.integers(0, 1300), rng.integers(0, 1900)
        cv2.circle(junk, (int(x), int(y)), int(rng.integers(5, 80)), int(rng.integers(0, 200)), -1)
    r = read(junk)
    assert r.status == "unrecognized" and r.error


def test_bad_files_are_named_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    good = cv2.imencode(".jpg", np.full((400, 300), 200, np.uint8))[1].tobytes()
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4\n garbage")
    (tmp_path / "text.tif").write_bytes(b"hello, not a tiff")
    for name, words in [("empty.png", "empty"), ("cut.jpg", "damaged"), ("junk.pdf", "PDF"), ("text.tif", "image")]:
        pages = list(iter_pages(str(tmp_path / name)))
        assert len(pages) == 1 and pages[0].image is None, name
        assert words.lower() in pages[0].error.lower(), (name, pages[0].error)


def test_png_pages_decode_as_pillow_does_and_a_cut_one_is_named(blank, tmp_path):
    """PNGs go straight to grey through OpenCV (faster); the pixels are Pillow's (to a rounding), and a file cut
    short, or with transparency, still goes through Pillow (which names the damage, or composes on white)."""
    from PIL import Image

    from omr.io import pil_to_gray

    rgb = cv2.cvtColor(blank, cv2.COLOR_GRAY2BGR)
    rgb[100:300, 100:300] = (30, 120, 200)  # a coloured patch: the grey conversion must agree too
    cv2.imwrite(str(tmp_path / "page.png"), rgb)
    page = next(iter_pages(str(tmp_path / "page.png")))
    with Image.open(tmp_path / "page.png") as im:
        diff = np.abs(page.image.astype(int) - pil_to_gray(im))
    assert diff.max() <= 1 and np.count_nonzero(diff[:100]) == 0  # grey pixels alike, colours within a rounding
    data = (tmp_path / "page.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    cut = list(iter_pages(str(tmp_path / "cut.png")))
    assert len(cut) == 1 and cut[0].image is None and "damaged or truncated" in cut[0].error
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)).save(tmp_path / "clear.png")  # transparent: white paper, not black
    assert int(next(iter_pages(str(tmp_path / "clear.png"))).image.min()) == 255


def test_huge_image_refused_without_decoding(tmp_path):
    from PIL import Image

    # a 30000x30000 1-bit PNG is small on disk but 900 MP decoded
    im = Image.new("1", (30000, 30000), 1)
    p = tmp_path / "bomb.png"
    im.save(p, optimize=False)
    pages = list(iter_pages(str(p)))
    assert pages[0].image is None and "limit" in pages[0].error


def test_multipage_tiff_streams_pages(mini, blank, tmp_path):
    from PIL import Image

    a = Image.fromarray(blank)
    b = Image.fromarray(cv2.rotate(blank, cv2.ROTATE_180))
    p = tmp_path / "two.tif"
    a.convert("1").save(p, save_all=True, append_images=[b.convert("1")], compression="group4")
    pages = list(iter_pages(str(p)))
    assert [pg.index for pg in pages] == [0, 1]
    assert all(pg.image is not None and pg.image.dtype == np.uint8 for pg in pages)
    r = read(pages[1].image)
    assert r.status == "ok" and r.sheet == "000123"


def test_scanner_pdf_takes_embedded_image(blank, tmp_path):
    from PIL import Image

    p = tmp_path / "scan.pdf"
    Image.fromarray(blank).save(p, "PDF", resolution=DPI)
    pages = list(iter_pages(str(p)))
    assert len(pages) == 1 and pages[0].image is not None
    # the embedded image is used as is (scaled to the working size), not re-rendered
    assert abs(pages[0].image.shape[0] / pages[0].image.shape[1] - blank.shape[0] / blank.shape[1]) < 0.01


def test_phone_photo_with_perspective_and_uneven_light(mini, blank):
    img = blank.copy()
    cross(img, _box(mini, "c01", 4), ink=60, width=2)
    cross(img, _box(mini, "gioi_tinh", 1), ink=60, width=2)
    h, w = img.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[420, 380], [2550, 260], [2790, 3690], [230, 3800]])
    photo = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (3000, 4000), borderValue=70)
    yy, xx = np.mgrid[0:4000, 0:3000]
    light = 0.55 + 0.45 * (xx / 3000) * (1 - 0.5 * yy / 4000)
    photo = cv2.GaussianBlur(np.clip(photo * light, 0, 255).astype(np.uint8), (5, 5), 1.2)
    r = read(photo)
    assert r.status == "ok", r.error
    assert (r.fields["c01"].value, r.fields["c01"].status) == (4, "answered")
    assert (r.fields["gioi_tinh"].value, r.fields["gioi_tinh"].status) == (1, "answered")
    assert r.fields["c02"].status == "blank"


@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="tesseract-ocr is not installed")
def test_unreadable_qr_falls_back_to_printed_footer(mini, tmp_path):
    """A form printed with layout 1 has no identity row: the printed footer is its fallback."""
    render_pdf(mini, tmp_path / "v1.pdf", first_serial=123, layout_version=1)
    img = np.array(convert_from_path(str(tmp_path / "v1.pdf"), dpi=DPI, grayscale=True)[0])
    from omr.layout import QR_SIZE, QR_X, QR_Y

    cv2.rectangle(img, (int(QR_X * PPM), int(QR_Y * PPM)), (int((QR_X + QR_SIZE) * PPM), int((QR_Y + QR_SIZE) * PPM)), 255, -1)
    r = process_page(img, source="t.png", index=0, options=ScanOptions(ocr=True)).result
    assert r.status == "ok", r.error
    assert (r.template, r.sheet, r.page, r.identified_by) == ("mini-form", "000123", 1, "ocr")
    r2 = process_page(img, source="t.png", index=0, options=NO_OCR).result
    assert r2.status == "unrecognized" and "QR" in r2.error


def test_very_light_pencil_goes_to_review_not_blank(mini, blank):
    img = blank.copy()
    cross(img, _box(mini, "c02", 2), ink=200, width=3)  # darkness ~0.2: below ink, above faint
    r = read(img)
    assert r.fields["c02"].status == "uncertain"
    assert r.fields["c01"].status == "blank"


def test_thick_borders_from_a_heavy_threshold_are_calibrated_away(mini, blank):
    img = cv2.erode(blank, np.ones((3, 3), np.uint8))  # every printed line 1 px (0.13 mm) thicker each side
    cross(img, _box(mini, "c01", 3))
    r = read(img)
    assert (r.fields["c01"].value, r.fields["c01"].status) == (3, "answered")
    assert r.fields["c02"].status == "blank"
    assert r.fields["gioi_tinh"].status == "blank"


def test_pdf_bomb_and_encrypted_pdf_are_refused(tmp_path):
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=72 * 400, height=72 * 400)  # a 10 x 10 m page
    with open(tmp_path / "huge.pdf", "wb") as fh:
        w.write(fh)
    pages = list(iter_pages(str(tmp_path / "huge.pdf")))
    assert pages[0].image is None and "limit" in pages[0].error
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.encrypt("secret")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        w.write(fh)
    pages = list(iter_pages(str(tmp_path / "locked.pdf")))
    assert pages[0].image is None and "encrypted" in pages[0].error


@pytest.mark.parametrize("rotation", [0, 90])
def test_scanner_streak_through_a_box_column_is_painted_out_and_reported(mini, blank, rotation, tmp_path):
    img = blank.copy()
    cross(img, _box(mini, "c01", 2))
    cross(img, _box(mini, "c02", 5))
    # c03 left blank; dust on the glass draws a dark line the length of the scan through the column of option 4
    x, _, w, _ = _px(_box(mini, "c03", 4))
    sx = int(x + w * 0.45)
    img[:, sx : sx + 2] = (img[:, sx : sx + 2] * 0.45).astype(np.uint8)
    if rotation:  # the sheet went through sideways: the streak runs across the printed page
        img = np.ascontiguousarray(cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE))
    r = read(img, tmp_path)
    assert r.status == "ok"
    assert (r.fields["c01"].value, r.fields["c01"].status) == (2, "answered")
    assert (r.fields["c02"].value, r.fields["c02"].status) == (5, "answered")
    assert r.fields["c03"].status == "blank"
    assert len(r.warnings) == 1 and "scanner streak" in r.warnings[0]
    assert r.to_json()["warnings"] == r.warnings


def test_printed_pages_have_no_streaks(mini, blank):
    from omr.streaks import find_streaks

    for t in ("sipas-2017", "hue-2017", "hanoi-y-te"):
        tpl = load_template(t)
        buf = io.BytesIO()
        render_pdf(tpl, buf, first_serial=1)
        for page in convert_from_bytes(buf.getvalue(), dpi=DPI, grayscale=True):
            g = np.array(page)
            assert find_streaks(g) == [] and find_streaks(np.ascontiguousarray(g.T)) == [], t
    assert find_streaks(blank) == []


def test_fill_beside_a_speck_is_the_answer_but_beside_a_light_stroke_goes_to_review(mini, blank, tmp_path):
    img = blank.copy()
    fill(img, _box(mini, "c01", 4))
    dot(img, _box(mini, "c01", 2), ink=60)  # the pen rested on another box
    fill(img, _box(mini, "c02", 4))
    x, y, w, h = _px(_box(mini, "c02", 2))  # a light pencil slash across another box: maybe the real answer
    cv2.line(img, (int(x + 0.15 * w), int(y + 0.85 * h)), (int(x + 0.85 * w), int(y + 0.15 * h)), 195, 2)
    r = read(img, tmp_path)
    assert (r.fields["c01"].value, r.fields["c01"].status) == (4, "answered")
    assert r.fields["c02"].status == "uncertain"


def test_a_page_placed_beyond_the_local_search_is_never_read_confidently(mini, blank, tmp_path):
    """A stained marker can pull the fit by millimetres; the box readings of such a page go to review."""
    from omr.layout import PX_PER_MM
    from omr.pipeline import read_fields

    img = blank.copy()
    cross(img, _box(mini, "c01", 2))
    cross(img, _box(mini, "gioi_tinh", 1))
    out = process_page(img, source="t.png", index=0, options=NO_OCR)
    assert out.result.status == "ok" and out.result.warnings == []
    assert (out.result.fields["c01"].value, out.result.fields["c01"].status) == (2, "answered")
    h, w = out.aligned.shape
    off = np.float32([[1, 0, 2.5 * PX_PER_MM], [0, 1, 1.0 * PX_PER_MM]])  # 2.5 mm right, 1 mm down
    moved = cv2.warpAffine(out.aligned, off, (w, h), borderValue=255)
    warnings: list[str] = []
    fields = read_fields(moved, mini, 1, NO_OCR, warnings=warnings)
    assert warnings and "misaligned" in warnings[0]
    for fid, f in fields.items():
        if f.marks:  # every box-read field
            assert f.status in ("uncertain", "multiple") and f.confidence <= 0.3, (fid, f)


@pytest.mark.parametrize("dy_mm", [0.9, -1.1])
def test_a_box_bent_off_its_row_is_found_not_measured_on_its_own_border(mini, blank, dy_mm, tmp_path):
    """A curled sheet bends a row: an empty box sits ~1 mm off its neighbours. Measured where
    the row says, its own printed border would cross the window and pass for a stroke; beside a
    filled box that reads as a correction to the wrong answer."""
    img = blank.copy()
    fill(img, _box(mini, "c03", 3))  # a fill alone: the answer
    x, y, w, h = _px(_box(mini, "c03", 5))
    m = int(1.6 * PPM)
    patch = img[int(y) - m : int(y + h) + m, int(x) - m : int(x + w) + m].copy()
    img[int(y) - m : int(y + h) + m, int(x) - m : int(x + w) + m] = 255
    d = int(round(dy_mm * PPM))
    img[int(y) - m + d : int(y + h) + m + d, int(x) - m : int(x + w) + m] = np.minimum(
        img[int(y) - m + d : int(y + h) + m + d, int(x) - m : int(x + w) + m], patch)
    r = read(img, tmp_path)
    f = r.fields["c03"]
    assert (f.value, f.status) == (3, "answered"), f
    assert [m.kind for m in f.marks] == ["empty", "empty", "filled", "empty", "empty"]


def test_an_empty_back_side_is_blank_even_with_the_front_showing_through(blank):
    from omr.pipeline import is_blank

    front = blank.astype(np.float32)
    rng = np.random.default_rng(3)
    for k in (0.08, 0.25):  # thin paper: the mirrored front shows through, never as dark as ink
        back = np.clip(255 * (1 - k * (1 - cv2.flip(front, 1) / 255.0)) + rng.normal(0, 3, front.shape), 0, 255).astype(np.uint8)
        r = read(back)
        assert (r.status, r.error) == ("unrecognized", "blank page: no content")
    # a respondent's note on the back is ink: a person must see it
    back = np.clip(255 * (1 - 0.1 * (1 - cv2.flip(front, 1) / 255.0)), 0, 255).astype(np.uint8)
    cv2.putText(back, "Can them ghe ngoi", (200, 900), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2, 50, 4)
    assert not is_blank(back) and read(back).error != "blank page: no content"
    assert not is_blank(blank)


def test_a_streak_across_the_qr_code_leaves_it_readable(mini, blank):
    """Painted out, a streak on a module edge must not split the finder pattern."""
    from omr.layout import QR_SIZE, QR_X

    for k in range(14):  # across the left finder pattern, 0.2 mm apart: some land on module edges
        img = blank.copy()
        sx = int(round((QR_X + 0.2 * k) * PPM))
        img[:, sx : sx + 3] = (img[:, sx : sx + 3] * 0.4).astype(np.uint8)
        r = read(img)
        assert (r.status, r.identified_by, r.sheet) == ("ok", "qr", "000123"), (k, r.error)
        assert any("scanner streak" in w for w in r.warnings)
    assert QR_SIZE > 2.8


def test_markers_touching_the_edge_of_the_scan_are_found(mini, blank):
    """A copier's shift or a skewed feed puts the page's corner at the edge of the image."""
    from omr.align import find_markers
    from omr.layout import MARKER_INSET

    d = MARKER_INSET * PPM - 2  # the top-left marker 2 px from the image's corner
    h, w = blank.shape
    shifted = cv2.warpAffine(blank, np.float32([[1, 0, -d], [0, 1, -d]]), (w, h), borderValue=255)
    cross(shifted, [v - MARKER_INSET + 2 / PPM if i < 2 else v for i, v in enumerate(_box(mini, "c01", 4))])
    assert sorted(i % 4 for i in find_markers(shifted)) == [0, 1, 2, 3]  # every corner (layout 2: page 1 has ids 4-7)
    r = read(shifted)
    assert r.status == "ok" and r.alignment_quality == 1.0
    assert (r.fields["c01"].value, r.fields["c01"].status) == (4, "answered")


def test_a_marker_cut_off_by_the_edge_of_the_scan_is_left_out(mini, blank):
    from omr.align import find_markers
    from omr.layout import MARKER_INSET, MARKER_SIZE

    for cut_mm in (MARKER_INSET + 0.5, MARKER_INSET + MARKER_SIZE / 2):  # into the top markers' border; through them
        cut = int(cut_mm * PPM)
        img = blank[cut:, :].copy()  # a row slice is already contiguous: ascontiguousarray would not copy
        cross(img, [v - cut / PPM if i == 1 else v for i, v in enumerate(_box(mini, "c02", 3))])
        found = find_markers(img)
        assert {2, 3} <= {i % 4 for i in found}  # the bottom corners
        for c in found.values():  # whatever is kept lies inside the scan
            assert c.min() >= 0 and c[:, 1].max() <= img.shape[0] - 1
        r = read(img)
        assert r.status == "ok", (cut_mm, r.error)
        assert (r.fields["c02"].value, r.fields["c02"].status) == (3, "answered")


def test_a_streak_through_a_box_column_and_the_qr_code_is_painted_out_whole(mini):
    """At 150 dpi a 3-px streak through the column of option 5 also crosses the QR code near the
    bottom edge, where its dark modules hide part of the streak: the whole streak must still go."""
    pdf = convert_from_bytes(_render_bytes(mini), dpi=150, grayscale=True)[0]
    img = np.array(pdf)
    ppm = 150 / 25.4
    x, _, w, _ = _box(mini, "c02", 5)
    sx = int(round((x + w * 0.3) * ppm))  # here two of its three columns lose the test near the QR code
    img[:, sx : sx + 3] = (img[:, sx : sx + 3] * 0.25).astype(np.uint8)
    r = read(img)
    assert r.status == "ok" and r.identified_by == "qr"
    assert len(r.warnings) == 1 and "(3 px wide)" in r.warnings[0]
    for fid in ("c02", "c03"):  # left blank; the streak ran through their option 5
        assert r.fields[fid].status == "blank", (fid, r.fields[fid])


def _render_bytes(tpl) -> bytes:
    buf = io.BytesIO()
    render_pdf(tpl, buf, first_serial=123)
    return buf.getvalue()


def test_a_thick_felt_tip_cross_beside_another_is_not_taken_for_a_cancelling_fill(mini, blank, tmp_path):
    """A felt tip's cross, gone over once more, covers most of a box (here 80 %), past the line where a
    box counts as filled; beside a thinner cross that is not clearly a correction: a person decides."""
    img = blank.copy()
    box = _box(mini, "cai_thien", 1)
    cross(img, box, width=8)
    x, y, w, h = _px(box)
    cv2.line(img, (int(x + w * 0.2), int(y + h / 2)), (int(x + w * 0.8), int(y + h / 2)), 40, 2)
    cross(img, _box(mini, "cai_thien", 3), width=6, scale=1.1)
    f = read(img, tmp_path).fields["cai_thien"]
    assert [m.kind for m in f.marks] == ["filled", "empty", "marked"]
    assert f.status == "uncertain" and f.confidence < 0.75, f
    # a solid fill beside a cross is the printed correction, and is read as such
    img = blank.copy()
    fill(img, _box(mini, "c02", 2))
    cross(img, _box(mini, "c02", 4))
    f = read(img, tmp_path).fields["c02"]
    assert (f.value, f.status, f.reason) == (4, "answered", "correction")


def test_a_lone_speck_in_a_blank_field_of_a_clean_page_goes_to_a_person():
    """On a 1-bit scan a fixed threshold can drop a fine pen's cross but for a few pixels, in a box whose
    neighbours hold nothing at all: such a field is not read as blank. Where the empty boxes carry noise (grey
    paper, JPEG), or the speck is smaller than 3 pixels' worth, the field stays blank."""
    from omr.decide import decide_field
    from omr.layout import layout
    from omr.marks import BoxMeasure
    from omr.template import load_template

    field = next(f for p in layout(load_template("hue-2017")).pages for f in p.fields if f.kind == "single" and len(f.options) >= 4)

    def read(fills: list[float]):  # noqa: ANN202
        return decide_field(field, [BoxMeasure(o, fill, 0.1, 0.0, 0.5, (0.0, 0.0)) for o, fill in zip(field.options, fills)])

    n = len(field.options)
    speck = read([0.0, 0.0038] + [0.0] * (n - 2))  # 3 px of a 4.5 mm box at 200 dpi, the others clean
    assert speck.status == "uncertain" and speck.reason == "faint mark"
    assert speck.value == field.options[1].value  # the speck's box is the reviewer's suggestion, never counted
    assert read([0.0] * n).status == "blank"
    assert read([0.002, 0.0038] + [0.001] * (n - 2)).status == "blank"  # noise in every box: a speck is noise too
    assert read([0.0, 0.002] + [0.0] * (n - 2)).status == "blank"  # below 3 px: dust
    assert read([0.0, 0.5] + [0.0] * (n - 2)).status == "answered"  # a mark is read as before
