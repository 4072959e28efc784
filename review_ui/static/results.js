// The results page of a round: the overall index, elements and criteria with n and pending, the answer
// distribution per criterion, the agency ranking with n and response rate, charts (Chart.js, vendored),
// filters (agency, channel, period, respondent groups), the change against an earlier round of the same
// questionnaire, and links to the exports and the report under the same filters.
// Every figure is the one /api/indices returns, never recomputed here: this module only formats them
// (decimals, digit grouping, the reader's language). The filters live in the URL, so a view can be shared.
// When every chart of a view is drawn, <body data-charts-drawn> is set (tests and the benchmark wait for it).
// The section #rs-quality is left empty for another module (intervals / quality of the figures); each view
// drawn is announced as a "rs:view" event on document ({query, data, ranking}) for such a module.
"use strict";

const $r = (id) => document.getElementById(id);
const RS = {
  rounds: [], agencies: [], data: null, ranking: [], charts: {}, seq: 0, template: null, touched: false,
  f: { round: "", agency: "", channel: "", period: "", compare: "", group: [] },  // the filters in force
};
const FILTER_KEYS = ["round", "agency", "channel", "period", "compare"];

// ------------------------------------------------------------------ figures as people read them
const locale = () => (LANG === "vi" ? "vi-VN" : "en-US");
// the precision of published figures (the server's PUBLISHED_DECIMALS, the same as the PDF report)
const decimals = () => (RS.data && Number.isInteger(RS.data.published_decimals) ? RS.data.published_decimals : 2);

function num(x, dec) {
  if (x === null || x === undefined) return "–";
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: dec, maximumFractionDigits: dec, useGrouping: true }).format(x);
}
const fig = (x) => num(x, decimals());                                  // an index in percent: 69,78
const count = (n) => num(n, 0);                                         // n, sheets: 1.234
const share = (x) => (x === null || x === undefined ? "–" : `${num(x, 1)}%`);
const rate = (x) => (x === null || x === undefined ? "–" : `${num(x * 100, 1)}%`);  // a ratio shown in percent

// points up or down: "▲ +2,35", "▼ −1,20", "0,00"; null (nothing to compare) is "–"
function points(x) {
  if (x === null || x === undefined) return "–";
  const abs = num(Math.abs(x), decimals());
  if (!/[1-9]/.test(abs)) return abs;
  return x > 0 ? `▲ +${abs}` : `▼ −${abs}`;
}
function pointsWords(x) {
  if (x === null || x === undefined) return t("rs_no_change_data");
  const abs = num(Math.abs(x), decimals());
  if (!/[1-9]/.test(abs)) return t("rs_same");
  return t(x > 0 ? "rs_up" : "rs_down").replace("{p}", abs);
}
function changeCell(x) {
  const cls = x === null || x === undefined ? "num change" : `num change ${x > 0 ? "up" : x < 0 ? "down" : ""}`;
  return h("td", { class: cls, title: pointsWords(x) }, points(x));
}

// long names wrap onto several lines in the charts (Chart.js draws an array as lines)
function wrap(text, width, maxLines = 4) {
  const lines = [];
  let cur = "";
  for (const w of String(text).split(/\s+/).filter(Boolean)) {
    if (cur && (cur + " " + w).length > width) { lines.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  if (lines.length > maxLines) { lines.length = maxLines; lines[maxLines - 1] += " …"; }
  return lines;
}

const LEVELS_EN = { "Rất không hài lòng": "Very dissatisfied", "Không hài lòng": "Dissatisfied", "Bình thường": "Neither",
  "Hài lòng": "Satisfied", "Rất hài lòng": "Very satisfied" };
const levelName = (label) => (LANG === "en" && LEVELS_EN[label]) || label;
const LEVEL_COLOURS = ["#b3261e", "#e8845c", "#d9d4c7", "#7fb7e0", "#0b5cad"];  // dissatisfied (red) to satisfied (blue)
const NO_ANSWER_COLOUR = "#8c8c8c";

// ------------------------------------------------------------------ filters <-> URL <-> controls
function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const k of FILTER_KEYS) RS.f[k] = q.get(k) || "";
  RS.f.group = q.getAll("group").filter((g) => /^[^=]+=\d+$/.test(g));
}

function filterQuery(extra, without = []) {
  const q = new URLSearchParams();
  for (const k of ["round", "agency", "channel", "period"]) if (RS.f[k] && !without.includes(k)) q.set(k, RS.f[k]);
  for (const g of RS.f.group) q.append("group", g);
  for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
  return q;
}

// the URL follows the view once the reader has chosen something (a bare results.html stays bare until then)
function writeUrl() {
  if (!location.search && !RS.touched) return;
  const q = filterQuery({ compare: RS.f.compare });
  const url = `${location.pathname}${q.toString() ? "?" + q : ""}`;
  if (url !== location.pathname + location.search) history.replaceState(null, "", url);
}

function fillCompare() {
  const cur = RS.rounds.find((r) => String(r.id) === RS.f.round);
  const same = cur ? RS.rounds.filter((r) => r.template === cur.template && r.id !== cur.id) : [];
  const sel = $r("rs-compare");
  sel.replaceChildren(h("option", { value: "" }, t("rs_no_compare")), ...same.map((r) => h("option", { value: String(r.id) },
    r.period ? `${r.name} (${r.period})` : r.name)));
  if (!same.some((r) => String(r.id) === RS.f.compare)) RS.f.compare = "";
  sel.value = RS.f.compare;
  sel.disabled = !same.length;
}

// one select per respondent-group question of the questionnaire (from the API), each "all" or one value
function fillGroups(d) {
  const box = $r("rs-groups");
  const groups = (d && d.respondent_groups) || [];
  box.hidden = !groups.length;
  const chosen = Object.fromEntries(RS.f.group.map((g) => g.split("=")));
  box.replaceChildren(h("legend", {}, t("rs_groups")), ...groups.map((g) => {
    const sel = h("select", { id: `rs-group-${g.id}`, "data-q": g.id },
      h("option", { value: "" }, t("rs_ch_all")), ...g.options.map((o) => h("option", { value: String(o.value) }, o.label)));
    sel.value = chosen[g.id] || "";
    sel.addEventListener("change", () => { readGroups(); choose(); });
    return h("label", {}, h("span", {}, g.text.replace(/[:：]\s*$/, "")), " ", sel);
  }));
}

function readGroups() {
  RS.f.group = [...$r("rs-groups").querySelectorAll("select")].filter((s) => s.value).map((s) => `${s.dataset.q}=${s.value}`);
}

function showFilters() {
  $r("rs-round").value = RS.f.round;
  $r("rs-agency").value = RS.f.agency;
  $r("rs-channel").value = RS.f.channel;
  $r("rs-period").value = RS.f.period;
  fillCompare();
}

// ------------------------------------------------------------------ drawing
function drawDownloads() {
  const files = [
    ["CSV", "export", "csv"], [t("rs_csv_labels"), "export", "csv-labels"], ["XLSX (Excel)", "export", "xlsx"],
    ["SPSS (.sav)", "export", "sav"], ["JSON", "export", "json"], [t("rs_report_pdf"), "report", "pdf"], [t("rs_report_html"), "report", "html"],
  ];
  $r("rs-downloads").replaceChildren(...files.map(([name, what, format]) => {
    const href = `/api/${what}?${filterQuery({ format })}`;
    return h("li", {}, h("a", { href, ...(format === "html" ? { target: "_blank", rel: "noopener" } : { download: "" }) }, name));
  }));
}

function drawScope() {
  const d = RS.data;
  const parts = [d.round];
  if (RS.f.agency) parts.push(`${t("up_agency")}: ${RS.f.agency}`);
  if (RS.f.channel) parts.push(`${t("rs_channel")}: ${t(RS.f.channel === "paper" ? "rs_ch_paper" : "rs_ch_online")}`);
  if (RS.f.period) parts.push(`${t("rs_period")}: ${RS.f.period}`);
  for (const g of d.respondent_groups || []) {
    const v = RS.f.group.find((x) => x.startsWith(g.id + "="));
    const o = v && g.options.find((x) => String(x.value) === v.split("=")[1]);
    if (o) parts.push(`${g.text.replace(/[:：]\s*$/, "")}: ${o.label}`);
  }
  if (d.compare) parts.push(t("rs_compared_with").replace("{r}", d.compare.name));
  $r("rs-scope").textContent = `${t("rs_viewing")}: ${parts.join(" · ")}`;
}

function baseOptions(max) {
  return {
    indexAxis: "y", maintainAspectRatio: false, animation: false, responsive: true,
    plugins: { legend: { display: false } },
    scales: { x: { beginAtZero: true, max, ticks: { callback: (v) => num(v, 0) } }, y: { ticks: { autoSkip: false, font: { size: 11 } } } },
  };
}

function chart(id, config) {
  if (typeof Chart === "undefined") return;
  if (RS.charts[id]) RS.charts[id].destroy();
  RS.charts[id] = new Chart($r(id), config);
}

function barChart(id, labels, current, previous, label) {
  const datasets = [{ label, data: current, backgroundColor: "#0b5cad" }];
  if (previous) datasets.push({ label: t("rs_previous").replace("{r}", RS.data.compare.name), data: previous, backgroundColor: "#b8c4d3" });
  const options = baseOptions(100);
  options.plugins.legend.display = !!previous;
  options.plugins.tooltip = { callbacks: { label: (c) => `${c.dataset.label}: ${fig(c.raw)}%` } };
  chart(id, { type: "bar", data: { labels, datasets }, options });
}

function drawIndices() {
  const d = RS.data;
  const cmp = !!d.compare;
  $r("rs-overall").textContent = fig(d.overall);
  $r("rs-overall-change").replaceChildren(...(cmp ? [
    h("span", { class: `change ${d.change > 0 ? "up" : d.change < 0 ? "down" : ""}` }, points(d.change)), " ",
    t("rs_change_line").replace("{w}", pointsWords(d.change)).replace("{r}", d.compare.name).replace("{v}", fig(d.previous)),
  ] : []));
  $r("rs-overall-n").textContent = t("rs_overall_n").replace("{n}", count(d.n)).replace("{s}", count(d.sheets ?? null)).replace("{p}", count(d.pending_review));
  for (const th of document.querySelectorAll(".rs-cmp")) th.hidden = !cmp;
  const rows = [];
  for (const e of d.elements) {
    rows.push(h("tr", { class: "element", "data-element": e.id }, h("th", { scope: "row" }, e.name), h("td", { class: "num" }, fig(e.index)),
      cmp ? changeCell(e.change) : null, h("td", { class: "num" }, count(e.n)), h("td", { class: "num" }, count(e.pending ?? null))));
    for (const c of e.criteria) {
      rows.push(h("tr", { class: "criterion", "data-criterion": c.id }, h("td", { class: "indent" }, `${c.number || c.id}. ${c.text}`),
        h("td", { class: "num" }, fig(c.index)), cmp ? changeCell(c.change) : null, h("td", { class: "num" }, count(c.n)),
        h("td", { class: "num" }, count(c.pending ?? null))));
    }
  }
  $r("rs-elements").tBodies[0].replaceChildren(...rows);
  barChart("rs-chart-elements", d.elements.map((e) => wrap(e.name, 32)), d.elements.map((e) => e.index),
    cmp ? d.elements.map((e) => e.previous) : null, `${t("rs_col_index")} (%)`);
}

// stacked 100% bars per criterion: the shares the API gives, the API's counts in the tooltips
function drawDistribution() {
  const d = RS.data;
  const crits = d.elements.flatMap((e) => e.criteria);
  const labels = crits.map((c) => wrap(`${c.number || c.id}. ${c.text}`, 58, 3));
  const datasets = (d.levels || []).map((lv, i) => ({
    label: levelName(lv.label), key: String(lv.value), backgroundColor: LEVEL_COLOURS[Math.round(i * (LEVEL_COLOURS.length - 1) / Math.max(1, d.levels.length - 1))],
    data: crits.map((c) => (c.shares ? c.shares[String(lv.value)] : null)), counts: crits.map((c) => (c.distribution || {})[String(lv.value)] ?? 0),
  }));
  datasets.push({ label: t("rs_no_answer"), key: "no_answer", backgroundColor: NO_ANSWER_COLOUR,
    data: crits.map((c) => (c.shares ? c.shares.no_answer : null)), counts: crits.map((c) => c.no_answer ?? 0) });
  const lines = labels.reduce((s, l) => s + l.length, 0);
  $r("rs-dist-box").style.height = `${Math.max(220, 70 + crits.length * 12 + lines * 13)}px`;
  const options = baseOptions(100);
  options.scales.x.stacked = true;
  options.scales.y.stacked = true;
  options.scales.x.ticks.callback = (v) => `${num(v, 0)}%`;
  options.plugins.legend = { display: true, position: "top", labels: { boxWidth: 14 } };
  options.plugins.tooltip = { callbacks: { label: (c) => `${c.dataset.label}: ${share(c.raw)} (${count(c.dataset.counts[c.dataIndex])})` } };
  chart("rs-chart-dist", { type: "bar", data: { labels, datasets }, options });
}

// an agency's name: as the ranking gives it, else from the list of agencies (/api/agencies)
function nameOf(a) {
  return a.name || (RS.agencies.find((x) => x.code === a.agency) || {}).name || "";
}
function agencyName(a) {
  const name = nameOf(a);
  return name ? `${a.agency} · ${name}` : a.agency || t("rs_no_agency");
}

function drawRanking() {
  const list = RS.ranking;
  const cmp = !!RS.data.compare;
  $r("rs-ranking").tBodies[0].replaceChildren(...(list.length ? list.map((a) => h("tr", { "data-agency": a.agency || "", class: a.agency === RS.f.agency ? "mine" : null },
    h("td", { class: "num" }, a.rank === null || a.rank === undefined ? "–" : String(a.rank)), h("td", {}, agencyName(a)),
    h("td", { class: "num" }, fig(a.overall)), cmp ? changeCell(a.change) : null, h("td", { class: "num" }, count(a.n)),
    h("td", { class: "num" }, a.returned === undefined ? "–" : `${count(a.returned)}/${count(a.printed)}`), h("td", { class: "num" }, rate(a.response_rate))))
    : [h("tr", {}, h("td", { colspan: cmp ? "7" : "6", class: "muted" }, t("rs_no_ranking")))]));
  $r("rs-agencies-box").style.height = `${Math.max(220, 60 + list.length * (cmp ? 40 : 30))}px`;
  barChart("rs-chart-agencies", list.map((a) => wrap(nameOf(a) || a.agency || t("rs_no_agency"), 26, 2)), list.map((a) => a.overall),
    cmp ? list.map((a) => a.previous) : null, `${t("rs_col_index")} (%)`);
}

function drawAll() {
  drawScope();
  drawIndices();
  drawDistribution();
  drawRanking();
  drawDownloads();
  const seq = RS.seq;
  requestAnimationFrame(() => {
    if (seq !== RS.seq || !RS.data) return;
    document.body.dataset.chartsDrawnMs = String(Math.round(performance.now()));  // since the navigation began
    document.body.dataset.chartsDrawn = String(seq);
  });
  // for a module drawing into #rs-quality: the view's filters (as the API's query) and its figures
  document.dispatchEvent(new CustomEvent("rs:view", { detail: { query: filterQuery({ compare: RS.f.compare }).toString(), data: RS.data, ranking: RS.ranking } }));
}

function clearFigures() {
  RS.data = null;
  for (const id of ["rs-overall", "rs-overall-n", "rs-scope"]) $r(id).textContent = "";
  $r("rs-overall-change").replaceChildren();
  $r("rs-elements").tBodies[0].replaceChildren();
  $r("rs-ranking").tBodies[0].replaceChildren();
  for (const c of Object.values(RS.charts)) c.destroy();
  RS.charts = {};
}

// ------------------------------------------------------------------ loading
// the view's figures: the round and every agency (the ranking), and the chosen agency's when there is one
function fetchView() {
  const cmp = { compare: RS.f.compare };
  const all = api("GET", `/api/indices?${filterQuery({ ...cmp, agencies: "true" }, ["agency"])}`);
  const one = RS.f.agency ? api("GET", `/api/indices?${filterQuery(cmp)}`) : null;
  return Promise.all([all, one]);
}

// a view the reader chose (a control changed): from now on the URL follows it
function choose() {
  RS.touched = true;
  load();
}

async function load(early) {
  const seq = ++RS.seq;
  delete document.body.dataset.chartsDrawn;
  $r("rs-error").textContent = "";
  writeUrl();
  drawDownloads();
  if (!RS.f.round) return;
  try {
    const [a, o] = await (early || fetchView());
    if (seq !== RS.seq) return;  // a newer view was asked for meanwhile
    RS.ranking = a.agencies || [];
    RS.data = o || a;
    if (RS.template !== RS.data.template) { RS.template = RS.data.template; fillGroups(RS.data); }
    drawAll();
  } catch (e) {
    if (seq !== RS.seq) return;
    clearFigures();
    $r("rs-error").textContent = apiErrorText(e);
  }
}

function onRoundChange() {
  RS.f.round = $r("rs-round").value;
  const r = RS.rounds.find((x) => String(x.id) === RS.f.round);
  if (!r || r.template !== RS.template) { RS.f.group = []; RS.template = null; $r("rs-groups").replaceChildren(); $r("rs-groups").hidden = true; }
  fillCompare();
  choose();
}

officePage(["admin", "operator", "reviewer", "viewer"], async (me, onLang) => {
  readUrl();
  // a view named in the URL is fetched at once, beside the lists of rounds and agencies
  const asked = { ...RS.f };
  const early = RS.f.round ? fetchView() : null;
  if (early) early.catch(() => {});  // its error is shown by load()
  const [rounds, agencies] = await Promise.all([api("GET", "/api/rounds"), api("GET", "/api/agencies").catch(() => [])]);
  RS.rounds = rounds;
  RS.agencies = agencies;
  $r("rs-round").replaceChildren(...rounds.map((r) => h("option", { value: String(r.id) }, r.name)));
  if (!rounds.length) $r("rs-error").textContent = t("no_rounds");
  // a round named in the URL by its id or its name; else the newest
  const named = rounds.find((r) => String(r.id) === RS.f.round || r.name === RS.f.round);
  const want = named || rounds[rounds.length - 1];
  RS.f.round = want ? String(want.id) : "";
  for (const a of agencies) $r("rs-agency").append(h("option", { value: a.code }, a.name ? `${a.code} · ${a.name}` : a.code));
  if (RS.f.agency && !agencies.some((a) => a.code === RS.f.agency)) $r("rs-agency").append(h("option", { value: RS.f.agency }, RS.f.agency));
  showFilters();
  $r("rs-round").addEventListener("change", onRoundChange);
  $r("rs-agency").addEventListener("change", () => { RS.f.agency = $r("rs-agency").value; choose(); });
  $r("rs-channel").addEventListener("change", () => { RS.f.channel = $r("rs-channel").value; choose(); });
  $r("rs-compare").addEventListener("change", () => { RS.f.compare = $r("rs-compare").value; choose(); });
  $r("rs-period").addEventListener("change", () => { RS.f.period = $r("rs-period").value.trim(); choose(); });
  $r("rs-filters").addEventListener("submit", (ev) => { ev.preventDefault(); RS.f.period = $r("rs-period").value.trim(); choose(); });
  onLang(() => {
    fillCompare();
    if (RS.data) { fillGroups(RS.data); drawAll(); }
  });
  await load(named && asked.compare === RS.f.compare ? early : null);
});
