"""Online answers imported into a paper round: rows validated one by one, counted like paper, split by channel."""
from __future__ import annotations

import json
import random

from omr.template import load_template
from service import tallies
from tests.test_agencies_print_runs import AGENCIES_CSV, _client
from tests.test_integrity import _h, _tokens, _upload, _wait

LIKERT = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]


def _online_csv(n: int, seed: int = 5) -> tuple[str, list[dict]]:
    rng = random.Random(seed)
    lines = ["Dấu thời gian,Giới tính,Độ tuổi,Lĩnh vực,Câu 1,Câu 2,Câu 3,Góp ý,Mã đơn vị"]
    truth = []
    for i in range(n):
        row = {"gioi_tinh": rng.choice([1, 2]), "do_tuoi": rng.randint(1, 5), "c01": rng.randint(1, 5),
               "c02": rng.randint(1, 5), "c03": rng.choice([None, 1, 2, 3, 4, 5]), "agency": rng.choice(["SNV", "STP"])}
        truth.append(row)
        c03 = "" if row["c03"] is None else LIKERT[row["c03"] - 1].upper()  # labels in any case
        lines.append(f"2026-03-0{1 + i % 9} 10:00,{'Nam' if row['gioi_tinh'] == 1 else 'nữ'},{row['do_tuoi']},Dat dai,"
                     f"{LIKERT[row['c01'] - 1]},{row['c02']},{c03},\"Tốt, nhanh\",{row['agency']}")
    return "\n".join(lines) + "\n", truth


MAPPING = {"Giới tính": "gioi_tinh", "Độ tuổi": "do_tuoi", "Lĩnh vực": "linh_vuc", "Câu 1": "c01", "Câu 2": "c02",
           "Câu 3": "c03", "Góp ý": "y_kien_khac", "Mã đơn vị": "agency", "Dấu thời gian": "skip"}


def test_online_answers_are_validated_per_row_and_counted_by_channel(tmp_path, db_url, clean_scans):
    text, truth = _online_csv(20)
    bad = text + "2026-03-10,Nam,9,Dat dai,Hài lòng,4,,,SNV\n2026-03-10,Không rõ,1,Dat dai,Hài lòng,4,,,XYZ\n"
    with _client(tmp_path, db_url) as c:
        tok = _tokens(c)
        c.post("/api/agencies/import", headers=_h(tok["admin"]), files={"file": ("a.csv", AGENCIES_CSV.encode())})
        rid = c.post("/api/rounds", headers=_h(tok["admin"]), json={"name": "r", "template": "hue-2017"}).json()["id"]
        paper = sorted(p for p in clean_scans.iterdir() if p.name.startswith("hue-2017"))
        _wait(c, tok["op"], _upload(c, tok["op"], paper, "r", "SNV"))
        url = f"/api/rounds/{rid}/imports"
        files = {"file": ("truc-tuyen.csv", bad.encode())}
        assert c.post(url, headers=_h(tok["op"]), files=files, data={"mapping": json.dumps(MAPPING)}).status_code == 403
        r = c.post(url, headers=_h(tok["admin"]), files=files, data={"mapping": json.dumps({"Nope": "c01"})})
        assert r.status_code == 422 and "no column" in r.json()["detail"]
        r = c.post(url, headers=_h(tok["admin"]), files=files, data={"mapping": json.dumps({"Câu 1": "c99"})})
        assert r.status_code == 422 and "c99" in r.json()["detail"]
        r = c.post(url, headers=_h(tok["admin"]), files=files, data={"mapping": json.dumps(MAPPING), "dry_run": "true"})
        assert r.status_code == 200 and r.json()["taken"] == 20 and r.json()["refused"] == 2 and r.json()["batch"] is None
        r = c.post(url, headers=_h(tok["admin"]), files=files, data={"mapping": json.dumps(MAPPING)})
        assert r.status_code == 200, r.text
        rep = r.json()
        assert (rep["rows"], rep["taken"], rep["refused"]) == (22, 20, 2)
        errs = {(e["row"], e["column"]) for e in rep["errors"]}
        assert errs == {(22, "Độ tuổi"), (23, "Giới tính"), (23, "Mã đơn vị")}
        # the same file again: recognised, nothing taken twice
        assert c.post(url, headers=_h(tok["admin"]), files=files, data={}).status_code == 409
        # the mapping is kept for the questionnaire: a second export imports without one
        saved = c.get("/api/templates/hue-2017/1/import-mapping", headers=_h(tok["viewer"])).json()
        assert saved["mapping"] == MAPPING
        more, truth2 = _online_csv(3, seed=9)
        r = c.post(url, headers=_h(tok["admin"]), files={"file": ("dot-2.csv", more.encode())})
        assert r.status_code == 200 and r.json()["taken"] == 3
        truth += truth2
        # counted like paper, split by channel, never a duplicate of a paper sheet
        t = load_template("hue-2017")
        with c.app.state.factory() as s:
            all_ = tallies.indices(s, t, rid)
            online = tallies.indices(s, t, rid, channel="online")
            paper_only = tallies.indices(s, t, rid, channel="paper")
            c01 = tallies.counts(s, rid, channel="online")["c01"]["values"]
            by_agency = tallies.indices_by_agency(s, t, rid, channel="online")
        assert online.sheets == 23 and paper_only.sheets == len(paper) and all_.sheets == 23 + len(paper)
        assert c01 == {v: sum(1 for x in truth if x["c01"] == v) for v in {x["c01"] for x in truth}}
        assert by_agency["SNV"].sheets == sum(1 for x in truth if x["agency"] == "SNV")
        assert c.get("/api/indices?round=r", headers=_h(tok["viewer"])).json()["sheets"] == all_.sheets
        with c.app.state.factory() as s:  # online rows queue nothing for review
            from service.models import ReviewItem

            assert not s.query(ReviewItem).filter(ReviewItem.batch_id == rep["batch"]).count()
