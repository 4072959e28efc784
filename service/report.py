"""The published report of a survey round: HTML (one self-contained file) and PDF.

:func:`build_report` gathers what the report shows into a
:class:`ReportContext`; :func:`render_html` and :func:`render_pdf` turn the
same context into a web page (jinja2, autoescaped, charts as inline SVG) and
a printable A4 PDF (reportlab with DejaVu Sans, charts as PNG). Charts are
drawn by matplotlib (Agg) in grey shades with hatching and value labels, so
they survive black-and-white printing and photocopying.

Numbers are shown the Vietnamese way: decimal comma, two decimals ("84,45").
"""
from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from functools import lru_cache
from pathlib import Path
from typing import Any

from service.indices import AgencyRank, IndexResult, index_ci95, iter_questions, question_options

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PDF_FONT, PDF_FONT_BOLD, PDF_FONT_ITALIC = "ReportSans", "ReportSans-Bold", "ReportSans-Oblique"

# Grey shades (light -> dark) and hatches for the answer scale and for agencies.
GREYS = ["#f2f2f2", "#cccccc", "#a6a6a6", "#6e6e6e", "#333333", "#000000"]
HATCHES = ["", "////", "....", "\\\\\\\\", "xx", "", "--", "++"]
MAX_GROUPED_AGENCIES = 6  # more agencies: one horizontal bar per agency instead of grouped bars


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------
def fmt_num(x: float | None, decimals: int = 2) -> str:
    """``84.4512`` -> ``"84,45"``; ``None`` -> ``"–"`` (no answer is not zero)."""
    if x is None:
        return "–"
    return f"{x:,.{decimals}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def fmt_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def fmt_date(d: Date) -> str:
    return f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


# --------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------
@dataclass(slots=True)
class ReportContext:
    """Everything the report shows. ``ranking`` is empty unless there are two or more agencies."""

    template_id: str
    template_version: int
    title: str  # the questionnaire's subtitle or title
    issuer: str
    round_name: str
    date: Date
    result: IndexResult
    ranking: list[AgencyRank] = field(default_factory=list)
    scale_labels: dict[int, str] = field(default_factory=dict)
    filters: str | None = None  # e.g. "Đơn vị: SNV; Giới tính: Nữ"
    pages_read: int | None = None
    pages_skipped: int | None = None
    quality: dict[str, Any] | None = None  # GET /api/quality of the round (service.quality), when the report is a round's
    min_sample: int | None = None  # agencies with a smaller n are shown but not ranked

    @property
    def satisfied_labels(self) -> list[str]:
        return [self.scale_labels.get(v, str(v)) for v in self.result.satisfied_values]

    @property
    def provisional(self) -> bool:
        return self.result.pending_review > 0


def scale_labels(template: Any, result: IndexResult) -> dict[int, str]:
    crit = {c.id for c in result.criteria()}
    for q in iter_questions(template):
        if q.id in crit:
            return {o.value: o.label for o in question_options(q)}
    lo, hi = result.scale
    return {v: str(v) for v in range(lo, hi + 1)}


def build_report(
    template: Any,
    result: IndexResult,
    *,
    round_name: str,
    ranking: Sequence[AgencyRank] | None = None,
    date: Date | None = None,
    filters: str | None = None,
    pages_read: int | None = None,
    pages_skipped: int | None = None,
    quality: dict[str, Any] | None = None,
    min_sample: int | None = None,
) -> ReportContext:
    return ReportContext(
        template_id=template.id,
        template_version=template.version,
        title=getattr(template, "subtitle", None) or template.title,
        issuer=getattr(template, "issuer", "") or "",
        round_name=round_name,
        date=date or Date.today(),
        result=result,
        ranking=list(ranking) if ranking and len(ranking) > 1 else [],
        scale_labels=scale_labels(template, result),
        filters=filters,
        pages_read=pages_read,
        pages_skipped=pages_skipped,
        quality=quality,
        min_sample=min_sample,
    )


def fmt_ci(ci: tuple[float, float] | None) -> str:
    """A 95% interval of an index as the report prints it: "84,12–91,30" (en dash), "–" when there is none."""
    return "–" if ci is None else f"{fmt_num(ci[0])}–{fmt_num(ci[1])}"


def fmt_pct(x: float | None, decimals: int = 2) -> str:
    return "–" if x is None else fmt_num(100 * x, decimals) + " %"


def quality_paragraphs(ctx: ReportContext) -> list[str]:
    """What the methodology says about the engine's measured error rate (service.quality)."""
    q = ctx.quality
    if not q:
        return []
    head = (f"Kiểm tra chất lượng (kiểm tra kép không cho biết kết quả máy đọc): {fmt_int(q['sampled'])} câu trả lời "
            f"do máy tự chấp nhận được chọn ngẫu nhiên (tỷ lệ {fmt_num(100 * q['rate'])} %) để cán bộ đọc lại mà không thấy "
            "kết quả của máy; khi hai bên khác nhau, một cán bộ thứ hai đọc lại và quyết định.")
    if not q.get("checked"):
        return [head + " Chưa có câu nào được kiểm tra xong, nên tỷ lệ sai của máy đọc chưa được đo."]
    ci = q["ci95"]
    text = (f" Đã kiểm tra {fmt_int(q['checked'])} câu, máy đọc sai {fmt_int(q['wrong'])} câu: tỷ lệ sai "
            f"{fmt_pct(q['error_rate'])} (khoảng tin cậy 95 % theo Wilson: {fmt_pct(ci[0])} – {fmt_pct(ci[1])}); "
            f"ước tính khoảng {fmt_int(q['estimated_wrong'])} trong {fmt_int(q['population'])} câu trả lời do máy tự chấp nhận "
            "có thể bị đọc sai.")
    if q.get("over_limit"):
        text += (f" Cận trên của khoảng tin cậy vượt ngưỡng {fmt_num(100 * q['limit'])} % đặt cho đợt khảo sát: "
                 "cần lưu ý khi sử dụng kết quả.")
    return [head + text]


def interval_paragraphs(ctx: ReportContext) -> list[str]:
    out = ["Khoảng tin cậy 95 % (KTC 95 %) của mỗi chỉ số được tính từ n theo phương pháp Wilson, coi chỉ số là tỷ lệ "
           "trên n phiếu: chỉ số của một đơn vị hay một tiêu chí có n nhỏ thì khoảng tin cậy rộng, "
           "chênh lệch nhỏ giữa hai đơn vị có thể chỉ do ngẫu nhiên."]
    if ctx.min_sample:
        out.append(f"Đơn vị có ít hơn {fmt_int(ctx.min_sample)} phiếu hợp lệ (cỡ mẫu tối thiểu của đợt) vẫn được trình bày "
                   "nhưng không được xếp hạng cùng các đơn vị khác (đánh dấu “–*”).")
    return out


def methodology(ctx: ReportContext) -> list[str]:
    """The methodology note, as paragraphs of plain text (Vietnamese)."""
    lo, hi = ctx.result.scale
    sat = " hoặc ".join(f"“{s}”" for s in ctx.satisfied_labels)
    return [
        f"Mỗi tiêu chí được đánh giá theo thang {hi - lo + 1} mức, từ {lo} (“{ctx.scale_labels.get(lo, lo)}”) "
        f"đến {hi} (“{ctx.scale_labels.get(hi, hi)}”).",
        f"Chỉ số hài lòng của một tiêu chí (%) = số câu trả lời {sat} / tổng số câu trả lời hợp lệ của tiêu chí đó × 100. "
        "Câu trả lời hợp lệ là câu có đúng một ô được đánh dấu; câu để trống hoặc đánh dấu nhiều ô không được tính.",
        "Chỉ số hài lòng của một yếu tố = trung bình cộng chỉ số của các tiêu chí thuộc yếu tố đó. "
        "Chỉ số hài lòng chung = trung bình cộng chỉ số của các yếu tố. "
        "Tiêu chí hoặc yếu tố không có câu trả lời hợp lệ nào không được tính vào trung bình.",
        f"Điểm trung bình = trung bình cộng các mức đã chọn ({lo}–{hi}). "
        "n là số phiếu có câu trả lời hợp lệ: với tiêu chí là số câu trả lời hợp lệ, "
        "với yếu tố là số phiếu trả lời ít nhất một tiêu chí của yếu tố.",
        "Các ô máy đọc chưa chắc chắn được chuyển cho cán bộ kiểm tra (“chờ duyệt”) và chưa được tính "
        "cho đến khi được xác nhận; không có câu trả lời nào được phỏng đoán.",
        *interval_paragraphs(ctx),
        *quality_paragraphs(ctx),
        "Phương pháp theo Đề án đo lường sự hài lòng của người dân, tổ chức đối với sự phục vụ của "
        "cơ quan hành chính nhà nước (Quyết định số 2640/QĐ-BNV ngày 10/10/2017 của Bộ Nội vụ).",
    ]


# --------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "hatch.linewidth": 0.6, "svg.fonttype": "path"})
    return plt


def _save(fig: Any, fmt: str) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=200 if fmt == "png" else None, bbox_inches="tight", facecolor="white")
    _plt().close(fig)
    return buf.getvalue()


def _wrap(s: str, width: int, max_lines: int = 3) -> str:
    lines = textwrap.wrap(s, width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" ,.") + "…"
    return "\n".join(lines)


def chart_elements(ctx: ReportContext, fmt: str = "png") -> bytes:
    """Element indices: grouped bars per agency (2–6 agencies), or one bar per element."""
    plt = _plt()
    elements = ctx.result.elements
    ranked = [r for r in ctx.ranking]
    if len(ranked) > MAX_GROUPED_AGENCIES:
        return _chart_agencies_overall(ctx, fmt)
    series: list[tuple[str, list[float | None]]]
    if ranked:
        series = [(r.name or r.agency or "(không ghi)", [e.index for e in r.result.elements]) for r in ranked]
    else:
        series = [("", [e.index for e in elements])]
    n_el, n_s = len(elements), len(series)
    width = 0.8 / n_s
    fig, ax = plt.subplots(figsize=(7.2, 3.6 + (0.25 if n_s > 1 else 0)))
    for si, (name, vals) in enumerate(series):
        xs = [i - 0.4 + width * (si + 0.5) for i in range(n_el)]
        hs = [v or 0 for v in vals]
        shade = GREYS[1 + si % (len(GREYS) - 1)] if n_s > 1 else GREYS[2]
        bars = ax.bar(xs, hs, width * 0.92, color=shade, edgecolor="black", linewidth=0.6,
                      hatch=HATCHES[si % len(HATCHES)] if n_s > 1 else "", label=name or None)
        for b, v in zip(bars, vals):
            ax.annotate(fmt_num(v, 1 if n_s > 2 else 2), (b.get_x() + b.get_width() / 2, b.get_height()),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                        fontsize=7 if n_s > 2 else 8, rotation=90 if n_s > 3 else 0)
    ax.set_xticks(range(n_el))
    ax.set_xticklabels([_wrap(f"{e.id}. {e.name}", 18 if n_el > 4 else 24, 4) for e in elements], fontsize=7.5)
    ax.set_ylim(0, 115)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("Chỉ số hài lòng (%)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)
    if n_s > 1:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=min(n_s, 3), frameon=False, fontsize=8)
    return _save(fig, fmt)


def _chart_agencies_overall(ctx: ReportContext, fmt: str) -> bytes:
    plt = _plt()
    rows = [r for r in ctx.ranking][::-1]
    fig, ax = plt.subplots(figsize=(7.2, 0.8 + 0.28 * len(rows)))
    vals = [r.overall or 0 for r in rows]
    bars = ax.barh(range(len(rows)), vals, color=GREYS[2], edgecolor="black", linewidth=0.5)
    for b, r in zip(bars, rows):
        ax.annotate(fmt_num(r.overall), (b.get_width(), b.get_y() + b.get_height() / 2), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([_wrap(r.name or r.agency or "(không ghi)", 30, 1) for r in rows], fontsize=7.5)
    ax.set_xlim(0, 110)
    ax.set_xlabel("Chỉ số hài lòng chung (%)")
    ax.spines[["top", "right"]].set_visible(False)
    return _save(fig, fmt)


def _level_style(i: int, n: int) -> tuple[str, str, bool]:
    """Fill, hatch and "is dark" for answer level ``i`` of ``n``: light and hatched for the
    low levels, solid dark for the top two (so white value labels stay readable)."""
    if n == 5:
        return [("#ffffff", "", False), ("#d9d9d9", "////", False), ("#bfbfbf", "....", False),
                ("#7a7a7a", "", True), ("#1f1f1f", "", True)][i]
    g = int(255 - 225 * i / max(n - 1, 1))
    return f"#{g:02x}{g:02x}{g:02x}", HATCHES[i % 3] if g > 128 else "", g <= 128


def chart_distribution(ctx: ReportContext, fmt: str = "png") -> bytes:
    """Answer distribution per criterion: 100 % stacked horizontal bars, one grey shade per level."""
    plt = _plt()
    crits = ctx.result.criteria()[::-1]
    lo, hi = ctx.result.scale
    levels = list(range(lo, hi + 1))
    fig, ax = plt.subplots(figsize=(7.2, 1.1 + 0.36 * len(crits)))
    left = [0.0] * len(crits)
    for li, v in enumerate(levels):
        shares = [100.0 * c.distribution.get(v, 0) / c.n if c.n else 0.0 for c in crits]
        shade, hatch, dark = _level_style(li, len(levels))
        bars = ax.barh(range(len(crits)), shares, left=left, height=0.7, color=shade, edgecolor="black",
                       linewidth=0.4, hatch=hatch, label=f"{v}. {ctx.scale_labels.get(v, v)}")
        for b, s in zip(bars, shares):
            if s >= 7:
                ax.text(b.get_x() + b.get_width() / 2, b.get_y() + b.get_height() / 2, f"{s:.0f}",
                        ha="center", va="center", fontsize=6.5, color="white" if dark else "black",
                        bbox=None if dark else {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85})
        left = [a + b for a, b in zip(left, shares)]
    ax.set_yticks(range(len(crits)))
    ax.set_yticklabels([_wrap(f"{c.number or c.id}. {c.text}", 42, 2) + f" (n={c.n})" for c in crits], fontsize=7)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(crits) - 0.4)
    ax.set_xlabel("Tỷ lệ câu trả lời hợp lệ (%)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.005), ncol=3 if len(levels) > 4 else len(levels),
              frameon=False, fontsize=7.5)
    return _save(fig, fmt)


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------
HTML_TEMPLATE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>Báo cáo kết quả khảo sát – {{ ctx.round_name }}</title>
<style>
 body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; line-height: 1.45; }
 h1 { font-size: 1.45rem; text-align: center; margin: .4rem 0; }
 h2 { font-size: 1.15rem; border-bottom: 1px solid #999; padding-bottom: .2rem; margin-top: 2rem; }
 .issuer { font-weight: bold; text-transform: uppercase; }
 .sub { text-align: center; margin: .2rem 0; }
 .big { font-size: 2.2rem; font-weight: bold; }
 table { border-collapse: collapse; width: 100%; font-size: .9rem; }
 th, td { border: 1px solid #999; padding: .25rem .45rem; vertical-align: top; }
 th { background: #e6e6e6; }
 td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
 tr.element td { font-weight: bold; background: #f3f3f3; }
 tr.overall td { font-weight: bold; background: #d9d9d9; }
 td.crit { padding-left: 1.4rem; }
 .warn { border: 2px solid #000; padding: .5rem .8rem; font-weight: bold; }
 .counts td:first-child { width: 60%; }
 img.chart { width: 100%; max-width: 48rem; height: auto; display: block; margin: .8rem auto; }
 .note p { margin: .35rem 0; }
 @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } img.chart, table { break-inside: avoid; } }
</style>
</head>
<body>
<header>
 <div class="issuer">{{ ctx.issuer }}</div>
 <h1>BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG</h1>
 <p class="sub">{{ ctx.title }}</p>
 <p class="sub"><strong>{{ ctx.round_name }}</strong></p>
 {% if ctx.filters %}<p class="sub">Phạm vi: {{ ctx.filters }}</p>{% endif %}
 <p class="sub"><em>Lập {{ fmt_date(ctx.date) }}</em></p>
</header>

<h2>1. Kết quả chung</h2>
<p>Chỉ số hài lòng chung: <span class="big">{{ pct(r.overall) }}</span>{% if r.overall is not none %} %{% endif %}{{ " " }}
 {%- if r.mean is not none %}(điểm trung bình {{ num(r.mean) }}/{{ r.scale[1] }}){% endif %}</p>
{% if ctx.provisional %}<p class="warn">Kết quả tạm thời: còn {{ int(r.pending_review) }} ô chưa đọc chắc chắn đang chờ cán bộ kiểm tra; các ô này chưa được tính.</p>{% endif %}
<table class="counts">
 <tr><td>Số phiếu đã đọc</td><td class="num">{{ int(r.sheets) }}</td></tr>
 <tr><td>Số phiếu có ít nhất một câu trả lời hợp lệ</td><td class="num">{{ int(r.n) }}</td></tr>
 <tr><td>Số ô chờ duyệt</td><td class="num">{{ int(r.pending_review) }}</td></tr>
 {% if ctx.pages_skipped %}<tr><td>Số trang không nhận dạng được (không tính)</td><td class="num">{{ int(ctx.pages_skipped) }}</td></tr>{% endif %}
</table>

<h2>2. Chỉ số hài lòng theo yếu tố và tiêu chí</h2>
<table>
 <thead><tr><th>Yếu tố / tiêu chí</th><th>Chỉ số hài lòng (%)</th><th>KTC 95 % (%)</th><th>Điểm trung bình</th><th>n</th><th>Chờ duyệt</th></tr></thead>
 <tbody>
 <tr class="overall"><td>CHỈ SỐ HÀI LÒNG CHUNG</td><td class="num">{{ pct(r.overall) }}</td><td class="num">{{ ci(r.overall, r.n) }}</td><td class="num">{{ num(r.mean) }}</td><td class="num">{{ int(r.n) }}</td><td class="num">{{ int(r.pending_review) }}</td></tr>
 {% for e in r.elements %}
 <tr class="element"><td>{{ e.id }}. {{ e.name }}</td><td class="num">{{ pct(e.index) }}</td><td class="num">{{ ci(e.index, e.n) }}</td><td class="num">{{ num(e.mean) }}</td><td class="num">{{ int(e.n) }}</td><td class="num">{{ int(e.pending) }}</td></tr>
 {% for c in e.criteria %}
 <tr><td class="crit">{{ c.number or c.id }}. {{ c.text }}</td><td class="num">{{ pct(c.index) }}</td><td class="num">{{ ci(c.index, c.n) }}</td><td class="num">{{ num(c.mean) }}</td><td class="num">{{ int(c.n) }}</td><td class="num">{{ int(c.pending) }}</td></tr>
 {% endfor %}
 {% endfor %}
 </tbody>
</table>
<img class="chart" alt="Biểu đồ chỉ số hài lòng theo yếu tố" src="data:image/svg+xml;base64,{{ chart_elements }}">

{% if ctx.ranking %}
<h2>3. Xếp hạng đơn vị</h2>
<table>
 <thead><tr><th>Hạng</th><th>Đơn vị</th><th>Chỉ số hài lòng chung (%)</th><th>KTC 95 % (%)</th>{% for e in r.elements %}<th>{{ e.id }}</th>{% endfor %}<th>n</th></tr></thead>
 <tbody>
 {% for a in ctx.ranking %}
 <tr><td class="num">{{ a.rank if a.rank is not none else ("–*" if a.below_min_sample else "–") }}</td><td>{{ a.name or a.agency or "(không ghi)" }}</td><td class="num">{{ pct(a.overall) }}</td><td class="num">{{ ci(a.overall, a.result.n) }}</td>{% for e in a.result.elements %}<td class="num">{{ pct(e.index) }}</td>{% endfor %}<td class="num">{{ int(a.result.n) }}</td></tr>
 {% endfor %}
 </tbody>
</table>
<p>{% for e in r.elements %}{{ e.id }}: {{ e.name }}{% if not loop.last %}; {% endif %}{% endfor %}.</p>
{% endif %}

<h2>{{ 4 if ctx.ranking else 3 }}. Phân bố câu trả lời theo tiêu chí</h2>
<img class="chart" alt="Biểu đồ phân bố câu trả lời theo tiêu chí" src="data:image/svg+xml;base64,{{ chart_distribution }}">
<table>
 <thead><tr><th>Tiêu chí</th>{% for v, lab in levels %}<th>{{ v }}. {{ lab }}</th>{% endfor %}<th>n</th></tr></thead>
 <tbody>
 {% for c in r.criteria() %}
 <tr><td>{{ c.number or c.id }}. {{ c.text }}</td>{% for v, lab in levels %}<td class="num">{{ int(c.distribution.get(v, 0)) }}</td>{% endfor %}<td class="num">{{ int(c.n) }}</td></tr>
 {% endfor %}
 </tbody>
</table>

<h2>{{ 5 if ctx.ranking else 4 }}. Phương pháp tính</h2>
<div class="note">{% for p in methodology %}<p>{{ p }}</p>{% endfor %}</div>
<p><small>Mẫu phiếu: {{ ctx.template_id }}, phiên bản {{ ctx.template_version }}.</small></p>
</body>
</html>
"""


@lru_cache(maxsize=1)
def _jinja_template() -> Any:
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(HTML_TEMPLATE)


def render_html(ctx: ReportContext) -> str:
    """One self-contained HTML page (charts inline as SVG); every text is escaped."""
    lo, hi = ctx.result.scale
    return _jinja_template().render(
        ctx=ctx,
        r=ctx.result,
        pct=fmt_num,
        num=fmt_num,
        int=fmt_int,
        ci=lambda index, n: fmt_ci(index_ci95(index, n)),
        fmt_date=fmt_date,
        levels=[(v, ctx.scale_labels.get(v, str(v))) for v in range(lo, hi + 1)],
        methodology=methodology(ctx),
        chart_elements=base64.b64encode(chart_elements(ctx, "svg")).decode("ascii"),
        chart_distribution=base64.b64encode(chart_distribution(ctx, "svg")).decode("ascii"),
    )


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from omr.errors import OmrError

    files = {PDF_FONT: "DejaVuSans.ttf", PDF_FONT_BOLD: "DejaVuSans-Bold.ttf", PDF_FONT_ITALIC: "DejaVuSans-Oblique.ttf"}
    for name, f in files.items():
        p = FONT_DIR / f
        if not p.is_file():
            raise OmrError(f"{p}: font missing; install Debian's fonts-dejavu-core (needed for Vietnamese text in the PDF)")
        pdfmetrics.registerFont(TTFont(name, str(p)))
    addMapping(PDF_FONT, 0, 0, PDF_FONT)
    addMapping(PDF_FONT, 1, 0, PDF_FONT_BOLD)
    addMapping(PDF_FONT, 0, 1, PDF_FONT_ITALIC)
    addMapping(PDF_FONT, 1, 1, PDF_FONT_BOLD)


def render_pdf(ctx: ReportContext) -> bytes:
    """A printable A4 report: title, round, date, tables, charts, methodology."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table,
                                    TableStyle)

    _register_fonts()
    r = ctx.result
    base = ParagraphStyle("base", fontName=PDF_FONT, fontSize=9.5, leading=12.5)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=base, fontSize=8.5, leading=10.5)
    cell_b = ParagraphStyle("cellb", parent=cell, fontName=PDF_FONT_BOLD)
    cell_r = ParagraphStyle("cellr", parent=cell, alignment=TA_RIGHT)
    head = ParagraphStyle("head", parent=cell, fontName=PDF_FONT_BOLD, alignment=TA_CENTER)
    h1 = ParagraphStyle("h1", parent=base, fontName=PDF_FONT_BOLD, fontSize=15, leading=19, alignment=TA_CENTER, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontName=PDF_FONT_BOLD, fontSize=11.5, leading=15, spaceBefore=10, spaceAfter=5)
    center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
    issuer = ParagraphStyle("issuer", parent=base, fontName=PDF_FONT_BOLD, fontSize=10)
    warn = ParagraphStyle("warn", parent=base, fontName=PDF_FONT_BOLD, borderColor=colors.black, borderWidth=1,
                          borderPadding=5, spaceBefore=6, spaceAfter=8)

    def P(text: str, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(escape(text), style)

    page_w = A4[0] - 36 * mm
    grid = [("FONTNAME", (0, 0), (-1, -1), PDF_FONT), ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#777777")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e0e0e0")), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]

    story: list[Any] = []
    if ctx.issuer:
        story.append(P(ctx.issuer.upper(), issuer))
    story += [Spacer(1, 6 * mm), P("BÁO CÁO KẾT QUẢ KHẢO SÁT SỰ HÀI LÒNG", h1), P(ctx.title, center),
              Spacer(1, 2 * mm), P(ctx.round_name, ParagraphStyle("round", parent=center, fontName=PDF_FONT_BOLD, fontSize=11))]
    if ctx.filters:
        story.append(P(f"Phạm vi: {ctx.filters}", center))
    story += [P(f"Lập {fmt_date(ctx.date)}", ParagraphStyle("date", parent=center, fontName=PDF_FONT_ITALIC)), Spacer(1, 5 * mm)]

    # 1. Summary
    story.append(P("1. Kết quả chung", h2))
    big = ParagraphStyle("big", parent=base, fontSize=12, leading=16)
    story.append(Paragraph(
        f"Chỉ số hài lòng chung: <font name='{PDF_FONT_BOLD}' size='18'>{escape(fmt_num(r.overall))}"
        f"{' %' if r.overall is not None else ''}</font>"
        + (f"&nbsp;&nbsp;(điểm trung bình {escape(fmt_num(r.mean))}/{r.scale[1]})" if r.mean is not None else ""), big))
    story.append(Spacer(1, 3 * mm))
    if ctx.provisional:
        story.append(P(f"Kết quả tạm thời: còn {fmt_int(r.pending_review)} ô chưa đọc chắc chắn đang chờ cán bộ kiểm tra; "
                       "các ô này chưa được tính.", warn))
    counts = [[P("Số phiếu đã đọc"), P(fmt_int(r.sheets), cell_r)],
              [P("Số phiếu có ít nhất một câu trả lời hợp lệ"), P(fmt_int(r.n), cell_r)],
              [P("Số ô chờ duyệt"), P(fmt_int(r.pending_review), cell_r)]]
    if ctx.pages_skipped:
        counts.append([P("Số trang không nhận dạng được (không tính)"), P(fmt_int(ctx.pages_skipped), cell_r)])
    t = Table(counts, colWidths=[page_w * 0.6, page_w * 0.15], hAlign="LEFT")
    t.setStyle(TableStyle([s for s in grid if s[0] != "BACKGROUND"]))
    story.append(t)

    # 2. Index table
    story.append(P("2. Chỉ số hài lòng theo yếu tố và tiêu chí", h2))
    rows: list[list[Any]] = [[P("Yếu tố / tiêu chí", head), P("Chỉ số hài lòng (%)", head), P("KTC 95 % (%)", head),
                              P("Điểm trung bình", head), P("n", head), P("Chờ duyệt", head)]]
    style = list(grid)

    def ci(index: float | None, n: int) -> Any:
        return P(fmt_ci(index_ci95(index, n)), cell_r)

    rows.append([P("CHỈ SỐ HÀI LÒNG CHUNG", cell_b), P(fmt_num(r.overall), ParagraphStyle("rb", parent=cell_r, fontName=PDF_FONT_BOLD)),
                 ci(r.overall, r.n), P(fmt_num(r.mean), cell_r), P(fmt_int(r.n), cell_r), P(fmt_int(r.pending_review), cell_r)])
    style.append(("BACKGROUND", (0, 1), (-1, 1), colors.HexColor("#cfcfcf")))
    for e in r.elements:
        rows.append([P(f"{e.id}. {e.name}", cell_b), P(fmt_num(e.index), ParagraphStyle("rb2", parent=cell_r, fontName=PDF_FONT_BOLD)),
                     ci(e.index, e.n), P(fmt_num(e.mean), cell_r), P(fmt_int(e.n), cell_r), P(fmt_int(e.pending), cell_r)])
        style.append(("BACKGROUND", (0, len(rows) - 1), (-1, len(rows) - 1), colors.HexColor("#f0f0f0")))
        for c in e.criteria:
            rows.append([P(f"{c.number or c.id}. {c.text}", ParagraphStyle("ci", parent=cell, leftIndent=8)),
                         P(fmt_num(c.index), cell_r), ci(c.index, c.n), P(fmt_num(c.mean), cell_r), P(fmt_int(c.n), cell_r), P(fmt_int(c.pending), cell_r)])
    t = Table(rows, colWidths=[page_w * 0.44, page_w * 0.12, page_w * 0.15, page_w * 0.11, page_w * 0.08, page_w * 0.10], repeatRows=1)
    t.setStyle(TableStyle(style))
    story.append(t)
    story.append(Spacer(1, 4 * mm))
    story.append(_image(chart_elements(ctx, "png"), page_w, Image))
    story.append(P("Biểu đồ 1. Chỉ số hài lòng theo yếu tố" + (" và đơn vị" if ctx.ranking else "") + " (%)",
                   ParagraphStyle("cap", parent=small, alignment=TA_CENTER, fontName=PDF_FONT_ITALIC)))

    sec = 3
    # 3. Ranking
    if ctx.ranking:
        heading = P(f"{sec}. Xếp hạng đơn vị", h2)
        sec += 1
        ehead = [P(e.id, head) for e in r.elements]
        rows = [[P("Hạng", ParagraphStyle("hh", parent=head, fontSize=7.5)), P("Đơn vị", head), P("Chỉ số chung (%)", head), *ehead, P("n", head)]]
        for a in ctx.ranking:
            rows.append([P(("–*" if a.below_min_sample else "–") if a.rank is None else str(a.rank), cell_r), P(a.name or a.agency or "(không ghi)"),
                         P(fmt_num(a.overall), ParagraphStyle("rb3", parent=cell_r, fontName=PDF_FONT_BOLD)),
                         *[P(fmt_num(e.index), cell_r) for e in a.result.elements], P(fmt_int(a.result.n), cell_r)])
        n_el = len(r.elements)
        rest = page_w * 0.58  # each element column holds "100,00" on one line
        t = Table(rows, colWidths=[page_w * 0.07, page_w * 0.23, page_w * 0.12, *[rest * 0.87 / n_el] * n_el, rest * 0.13], repeatRows=1)
        t.setStyle(TableStyle(grid))
        # the legend of E1…En stays with its table, never alone on the next page
        story.append(KeepTogether([heading, t, Spacer(1, 2 * mm), P("; ".join(f"{e.id}: {e.name}" for e in r.elements) + ".", small)]))

    # Distribution
    story.append(PageBreak())
    story.append(P(f"{sec}. Phân bố câu trả lời theo tiêu chí", h2))
    sec += 1
    story.append(_image(chart_distribution(ctx, "png"), page_w, Image, max_h=215 * mm))
    story.append(P("Biểu đồ 2. Tỷ lệ từng mức trả lời trong số câu trả lời hợp lệ của mỗi tiêu chí (%)",
                   ParagraphStyle("cap2", parent=small, alignment=TA_CENTER, fontName=PDF_FONT_ITALIC)))

    # Methodology
    note = [P(f"{sec}. Phương pháp tính", h2)] + [P(p, ParagraphStyle("m", parent=base, spaceAfter=4)) for p in methodology(ctx)]
    note.append(P(f"Mẫu phiếu: {ctx.template_id}, phiên bản {ctx.template_version}.", small))
    story.append(KeepTogether(note))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 7.5)
        canvas.drawString(18 * mm, 10 * mm, f"{ctx.round_name} – {fmt_date(ctx.date)}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=18 * mm,
                            title=f"Báo cáo kết quả khảo sát – {ctx.round_name}", author=ctx.issuer or "omr-khaosat",
                            subject=ctx.title)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def _image(png: bytes, max_w: float, Image: Any, max_h: float | None = None) -> Any:
    from reportlab.lib.utils import ImageReader

    iw, ih = ImageReader(io.BytesIO(png)).getSize()
    scale = max_w / iw
    if max_h is not None and ih * scale > max_h:
        scale = max_h / ih
    return Image(io.BytesIO(png), width=iw * scale, height=ih * scale)


def write_report(path: str | Path, ctx: ReportContext, fmt: str | None = None) -> Path:
    """Write ``html`` or ``pdf`` (from the suffix when ``fmt`` is None)."""
    p = Path(path)
    fmt = fmt or p.suffix.lstrip(".").lower()
    if fmt == "html":
        p.write_text(render_html(ctx), encoding="utf-8")
    elif fmt == "pdf":
        p.write_bytes(render_pdf(ctx))
    else:
        raise ValueError(f"unknown report format {fmt!r} (html or pdf)")
    return p
