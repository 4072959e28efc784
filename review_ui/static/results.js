// The results page of a round: the overall index, elements and criteria with n and pending, the agency
// ranking with n and response rate, charts (Chart.js, vendored), filters (agency, channel) and links to
// the exports and the report. Every figure is the one /api/indices returns, never recomputed here.
"use strict";

const $r = (id) => document.getElementById(id);
const RS = { data: null, ranking: [], charts: {} };

// a number as the server gave it, only its decimal point localised (no rounding, no arithmetic)
function fig(x) {
  if (x === null || x === undefined) return "–";
  const s = String(x);
  return LANG === "vi" ? s.replace(".", ",") : s;
}
const rate = (x) => (x === null || x === undefined ? "–" : `${fig(Math.round(x * 1000) / 10)}%`);

function query(extra) {
  const q = new URLSearchParams({ round: $r("rs-round").value });
  if ($r("rs-channel").value) q.set("channel", $r("rs-channel").value);
  for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
  return q.toString();
}

function drawDownloads() {
  const round = $r("rs-round").value;
  const agency = $r("rs-agency").value;
  const links = [
    ["CSV", `/api/export?${new URLSearchParams({ round, format: "csv", ...(agency ? { agency } : {}) })}`],
    [t("rs_csv_labels"), `/api/export?${new URLSearchParams({ round, format: "csv-labels", ...(agency ? { agency } : {}) })}`],
    ["XLSX (Excel)", `/api/export?${new URLSearchParams({ round, format: "xlsx", ...(agency ? { agency } : {}) })}`],
    ["SPSS (.sav)", `/api/export?${new URLSearchParams({ round, format: "sav", ...(agency ? { agency } : {}) })}`],
    ["JSON", `/api/export?${new URLSearchParams({ round, format: "json", ...(agency ? { agency } : {}) })}`],
    [t("rs_report_pdf"), `/api/report?${new URLSearchParams({ round, format: "pdf" })}`],
    [t("rs_report_html"), `/api/report?${new URLSearchParams({ round, format: "html" })}`],
  ];
  $r("rs-downloads").replaceChildren(...links.map(([name, href]) => h("li", {}, h("a", { href, ...(href.includes("format=html") ? { target: "_blank", rel: "noopener" } : { download: "" }) }, name))));
}

function chart(id, labels, values, label) {
  if (typeof Chart === "undefined") return;
  if (RS.charts[id]) RS.charts[id].destroy();
  RS.charts[id] = new Chart($r(id), {
    type: "bar",
    data: { labels, datasets: [{ label, data: values, backgroundColor: "#0b5cad" }] },
    options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, suggestedMax: 100 } } },
  });
}

function drawIndices() {
  const d = RS.data;
  $r("rs-overall").textContent = fig(d.overall);
  $r("rs-overall-n").textContent = t("rs_overall_n").replace("{n}", String(d.n)).replace("{s}", String(d.sheets ?? "–")).replace("{p}", String(d.pending_review));
  const rows = [];
  for (const e of d.elements) {
    rows.push(h("tr", { class: "element", "data-element": e.id }, h("th", { scope: "row" }, e.name), h("td", {}, fig(e.index)), h("td", {}, String(e.n)), h("td", {}, String(e.pending ?? "–"))));
    for (const c of e.criteria) {
      rows.push(h("tr", { class: "criterion", "data-criterion": c.id }, h("td", { class: "indent" }, `${c.id}. ${c.text}`), h("td", {}, fig(c.index)), h("td", {}, String(c.n)), h("td", {}, String(c.pending ?? "–"))));
    }
  }
  $r("rs-elements").tBodies[0].replaceChildren(...rows);
  chart("rs-chart-elements", d.elements.map((e) => e.name), d.elements.map((e) => e.index), t("rs_col_index"));
}

function drawRanking() {
  const list = RS.ranking;
  $r("rs-ranking").tBodies[0].replaceChildren(...(list.length ? list.map((a) => h("tr", { "data-agency": a.agency || "" },
    h("td", {}, a.rank === null || a.rank === undefined ? "–" : String(a.rank)), h("td", {}, a.name ? `${a.agency} · ${a.name}` : a.agency || t("rs_no_agency")),
    h("td", {}, fig(a.overall)), h("td", {}, String(a.n)), h("td", {}, a.returned === undefined ? "–" : `${a.returned}/${a.printed}`), h("td", {}, rate(a.response_rate))))
    : [h("tr", {}, h("td", { colspan: "6", class: "muted" }, t("rs_no_ranking")))]));
  chart("rs-chart-agencies", list.map((a) => a.agency || t("rs_no_agency")), list.map((a) => a.overall), t("rs_col_index"));
}

async function load() {
  $r("rs-error").textContent = "";
  drawDownloads();
  if (!$r("rs-round").value) return;
  try {
    const agency = $r("rs-agency").value;
    const all = await api("GET", `/api/indices?${query({ agencies: "true" })}`);
    RS.ranking = all.agencies || [];
    RS.data = agency ? await api("GET", `/api/indices?${query({ agency })}`) : all;
    drawIndices();
    drawRanking();
  } catch (e) { $r("rs-error").textContent = apiErrorText(e); }
}

officePage(["admin", "operator", "reviewer", "viewer"], async (me, onLang) => {
  const [rounds, agencies] = await Promise.all([api("GET", "/api/rounds"), api("GET", "/api/agencies").catch(() => [])]);
  $r("rs-round").replaceChildren(...rounds.map((r) => h("option", { value: String(r.id) }, r.name)));
  if (!rounds.length) $r("rs-error").textContent = t("no_rounds");
  const want = new URLSearchParams(location.search).get("round");
  if (want && rounds.some((r) => String(r.id) === want)) $r("rs-round").value = want;
  for (const a of agencies) $r("rs-agency").append(h("option", { value: a.code }, `${a.code} · ${a.name || ""}`));
  for (const id of ["rs-round", "rs-agency", "rs-channel"]) $r(id).addEventListener("change", load);
  onLang(() => { if (RS.data) { drawIndices(); drawRanking(); drawDownloads(); } });
  await load();
});
