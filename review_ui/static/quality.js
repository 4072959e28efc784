// The results page's uncertainty: the engine's error rate measured on the round's own scans (GET /api/quality:
// the blind double check) and the 95% intervals of the indices (the ci95 keys of GET /api/indices), with the
// agencies under the round's minimum sample. A module of its own, loaded by results.html with one line; it
// fills its own container and never reaches into results.js. Every figure is the server's, only formatted.

const QS = {
  vi: {
    h: "Độ tin cậy của kết quả", err: "Tỷ lệ máy đọc sai (đo trên mẫu kiểm tra kép)", ci: "khoảng tin cậy 95 %",
    checked: "Đã kiểm tra {c} / {s} câu được chọn; {d} câu người đọc khác máy; máy sai {w} câu.",
    est: "Ước tính số câu máy đọc sai trong đợt: khoảng {e} (từ {lo} đến {hi}) trong {p} câu máy tự chấp nhận.",
    none: "Chưa đo được: chưa có câu nào của mẫu kiểm tra được kiểm tra xong.",
    overall: "Chỉ số hài lòng chung", elements: "Khoảng tin cậy 95 % theo yếu tố", col_el: "Yếu tố", col_idx: "Chỉ số (%)",
    col_ci: "KTC 95 % (%)", col_n: "n", small: "Chưa xếp hạng (n dưới cỡ mẫu tối thiểu {m}): {list}.",
    warn_over: "Cảnh báo trước khi công bố: cận trên của tỷ lệ sai ({hi}) vượt ngưỡng {lim} đặt cho đợt này.",
  },
  en: {
    h: "How sure the figures are", err: "Engine error rate (measured on the blind double check)", ci: "95% interval",
    checked: "{c} of the {s} sampled answers checked; {d} first readings differed from the engine; the engine was wrong on {w}.",
    est: "Estimated wrong answers in the round: about {e} ({lo} to {hi}) of {p} answers the engine accepted by itself.",
    none: "Not measured yet: no answer of the quality sample is checked.",
    overall: "Overall satisfaction index", elements: "95% intervals by element", col_el: "Element", col_idx: "Index (%)",
    col_ci: "95% interval (%)", col_n: "n", small: "Not ranked (n under the minimum sample of {m}): {list}.",
    warn_over: "Warning before publishing: the upper bound of the error rate ({hi}) is above this round's limit of {lim}.",
  },
};

const lang = () => (typeof LANG !== "undefined" && LANG === "en" ? "en" : "vi");  // i18n.js's global
const q = (key, vals = {}) => QS[lang()][key].replace(/\{(\w+)\}/g, (_, k) => String(vals[k]));
const dec = (x) => (x === null || x === undefined ? "–" : lang() === "vi" ? String(x).replace(".", ",") : String(x));
const pct = (x) => (x === null || x === undefined ? "–" : `${dec(Math.round(x * 100000) / 1000)} %`);
// indices at the precision the round publishes (published_decimals, as the rest of the page and the report)
const fixed = (x, indices) => (x === null || x === undefined ? "–"
  : dec(Number(x).toFixed(Number.isInteger(indices && indices.published_decimals) ? indices.published_decimals : 2)));
const span = (ci) => (ci ? `${dec(ci[0].toFixed(2))}–${dec(ci[1].toFixed(2))}` : "–");

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

function container() {
  let box = document.getElementById("rs-quality");
  if (!box) {
    box = el("section", { id: "rs-quality", class: "card spaced", "aria-labelledby": "rs-quality-h" });
    const main = document.getElementById("results-main") || document.querySelector("main") || document.body;
    const anchor = main.querySelector("section") || null;
    if (anchor) anchor.append(box); else main.append(box);
  }
  return box;
}

function draw(quality, indices) {
  const box = container();
  box.replaceChildren(el("h2", { id: "rs-quality-h" }, q("h")));
  if (quality) {
    if (quality.over_limit) {
      box.append(el("p", { class: "flash warn", role: "alert" }, q("warn_over", { hi: pct(quality.ci95[1]), lim: pct(quality.limit) })));
    }
    const line = el("p", { id: "rs-quality-rate" }, q("err") + ": ");
    if (quality.checked) {
      line.append(el("strong", {}, pct(quality.error_rate)), ` (${q("ci")}: ${pct(quality.ci95[0])} – ${pct(quality.ci95[1])})`);
      box.append(line, el("p", { class: "muted" }, q("checked", { c: quality.checked, s: quality.sampled, d: quality.disagreements, w: quality.wrong })),
        el("p", { class: "muted" }, q("est", { e: quality.estimated_wrong, lo: quality.estimated_wrong_ci95[0], hi: quality.estimated_wrong_ci95[1], p: quality.population })));
    } else {
      line.append(q("none"));
      box.append(line);
    }
  }
  if (indices) {
    const rows = [[q("overall"), indices.overall, indices.ci95, indices.n],
      ...(indices.elements || []).map((e) => [`${e.id}. ${e.name}`, e.index, e.ci95, e.n])];
    const table = el("table", { class: "data", id: "rs-ci" },
      el("caption", {}, q("elements")),
      el("thead", {}, el("tr", {}, el("th", {}, q("col_el")), el("th", {}, q("col_idx")), el("th", {}, q("col_ci")), el("th", {}, q("col_n")))),
      el("tbody", {}, ...rows.map(([name, idx, ci, n]) => el("tr", {}, el("td", {}, name), el("td", { class: "num" }, fixed(idx, indices)),
        el("td", { class: "num" }, span(ci)), el("td", { class: "num" }, n)))));
    box.append(table);
    const small = (indices.agencies || []).filter((a) => a.below_min_sample && a.overall !== null);
    if (small.length) box.append(el("p", { class: "muted", id: "rs-small" }, q("small", { m: indices.min_sample, list: small.map((a) => `${a.name || a.agency} (n = ${a.n})`).join(", ") })));
  }
  window.__qualityRender = { at: performance.now(), quality, overall_ci95: indices ? indices.ci95 : null };
}

let loads = 0;  // a newer choice wins over an answer still on its way for an older one

async function load() {
  const mine = ++loads;
  const round = document.getElementById("rs-round");
  if (!round || !round.value) return;
  const p = new URLSearchParams({ round: round.value });
  const agency = document.getElementById("rs-agency");
  const channel = document.getElementById("rs-channel");
  const ip = new URLSearchParams(p);
  ip.set("agencies", "true");
  if (agency && agency.value) { ip.set("agency", agency.value); ip.delete("agencies"); }
  if (channel && channel.value) ip.set("channel", channel.value);
  const [quality, indices] = await Promise.all([api("GET", "/api/quality?" + p).catch(() => null),
    api("GET", "/api/indices?" + ip).catch(() => null)]);
  if (mine === loads) draw(quality, indices);
}

// results.js fills the round list after the session check: start once it has options, and follow the filters
function start() {
  const round = document.getElementById("rs-round");
  if (!round) return;
  const go = () => { load().catch(() => {}); };
  for (const id of ["rs-round", "rs-agency", "rs-channel"]) {
    const s = document.getElementById(id);
    if (s) s.addEventListener("change", go);
  }
  const langBtn = document.getElementById("lang");
  if (langBtn) langBtn.addEventListener("click", go);
  if (round.options.length) go();
  else new MutationObserver((_, obs) => { if (round.options.length) { obs.disconnect(); go(); } }).observe(round, { childList: true });
}

start();
