// The blind double check (GET /api/quality/next, POST /api/quality/{id}): one answer of the quality sample at a
// time, its crop drawn with every box alike, the engine's answer never shown; the reviewer picks what the
// respondent marked and Enter records it. Nothing is chosen in advance: Enter alone stores nothing.
"use strict";

Object.assign(STRINGS.vi, {
  qc_title: "Kiểm tra chất lượng (đọc lại không xem kết quả máy)", qc_start: "Bắt đầu", qc_save: "Ghi nhận (Enter)",
  qc_first: "Lần đọc thứ nhất", qc_second: "Lần đọc thứ hai: lần đọc trước khác kết quả máy",
  qc_pick: "Hãy chọn một phương án (1–9, 0 hoặc X) trước khi ghi nhận.", qc_saved: "Đã ghi nhận. Đã kiểm tra {c}/{s} câu của mẫu.",
  qc_done: "Không còn câu nào của mẫu kiểm tra chờ bạn đọc trong đợt này.", qc_blank: "Để trống (0)", qc_invalid: "Không hợp lệ (X)",
  qc_hint: "Hãy đọc ô trên ảnh và chọn đúng điều người trả lời đã đánh dấu: 1–9 chọn phương án · 0: để trống · X: không hợp lệ (nhiều lựa chọn) · Enter: ghi nhận",
});
Object.assign(STRINGS.en, {
  qc_title: "Quality check (read again without the engine's answer)", qc_start: "Start", qc_save: "Record (Enter)",
  qc_first: "First reading", qc_second: "Second reading: the first one differed from the engine",
  qc_pick: "Pick an answer (1–9, 0 or X) before recording.", qc_saved: "Recorded. {c} of the {s} sampled answers checked.",
  qc_done: "No answer of the quality sample is waiting for you in this round.", qc_blank: "Blank (0)", qc_invalid: "Invalid (X)",
  qc_hint: "Read the boxes in the picture and pick exactly what the respondent marked: 1–9 an option · 0 blank · X invalid (several marks) · Enter records",
});

const $q = (id) => document.getElementById(id);
const QC = { round: null, check: null, choice: undefined, busy: false };

function drawOptions() {
  if (QC.choice !== undefined) $q("qc-error").textContent = "";
  const c = QC.check;
  const box = $q("qc-options");
  box.replaceChildren();
  const pick = (v) => () => { QC.choice = v; drawOptions(); };
  for (const o of c.options) {
    box.append(h("button", { type: "button", class: QC.choice && QC.choice.value === o.value ? "primary" : null,
      "aria-pressed": QC.choice && QC.choice.value === o.value ? "true" : "false", onclick: pick({ value: o.value }) }, `${o.value}. ${o.label}`));
  }
  box.append(h("button", { type: "button", "aria-pressed": QC.choice && QC.choice.value === null ? "true" : "false",
    class: QC.choice && QC.choice.value === null ? "primary" : null, onclick: pick({ value: null }) }, t("qc_blank")));
  if (c.field_kind === "single" || c.field_kind === "code") {
    box.append(h("button", { type: "button", "aria-pressed": QC.choice && QC.choice.invalid ? "true" : "false",
      class: QC.choice && QC.choice.invalid ? "primary" : null, onclick: pick({ invalid: true }) }, t("qc_invalid")));
  }
  window.__checkRender = { at: performance.now(), id: c.id, choice: QC.choice === undefined ? null : QC.choice };
}

function show(c) {
  QC.check = c;
  QC.choice = undefined;
  $q("qc-done").hidden = true;
  $q("qc-view").hidden = false;
  $q("qc-stage").textContent = t(c.stage === "second" ? "qc_second" : "qc_first");
  $q("qc-question").textContent = `${c.field_id} · ${c.question || ""}`;
  $q("qc-crop").src = c.image_url;
  drawOptions();
  $q("qc-view").focus();
}

async function next() {
  const c = await api("GET", "/api/quality/next?" + new URLSearchParams({ round: QC.round }));
  if (c === null) {
    QC.check = null;
    $q("qc-view").hidden = true;
    $q("qc-done").hidden = false;
    $q("qc-done-text").textContent = t("qc_done");
    window.__checkRender = { at: performance.now(), id: null };
  } else {
    show(c);
  }
}

async function record() {
  if (QC.busy || !QC.check) return;
  if (QC.choice === undefined) { $q("qc-error").textContent = t("qc_pick"); return; }
  QC.busy = true;
  $q("qc-error").textContent = "";
  try {
    await api("POST", `/api/quality/${QC.check.id}`, { ...QC.choice, revision: QC.check.revision });
    const s = await api("GET", "/api/quality?" + new URLSearchParams({ round: QC.round })).catch(() => null);
    $q("qc-flash").textContent = s ? t("qc_saved").replace("{c}", s.checked).replace("{s}", s.sampled) : "";
    await next();
  } catch (e) {
    $q("qc-error").textContent = apiErrorText(e);
    if (e.status === 409) await next().catch(() => {});
  } finally {
    QC.busy = false;
  }
}

function onKey(e) {
  if ($q("qc-view").hidden || !QC.check || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = (e.target && e.target.tagName) || "";
  if (tag === "SELECT" || tag === "INPUT" || (e.target.closest && e.target.closest("#qc-filters"))) return;
  if (tag === "BUTTON" && e.key === "Enter" && e.target.id !== "qc-save") return;
  const k = e.key;
  if (/^[1-9]$/.test(k) && QC.check.options.some((o) => o.value === Number(k))) { e.preventDefault(); QC.choice = { value: Number(k) }; drawOptions(); }
  else if (k === "0") { e.preventDefault(); QC.choice = { value: null }; drawOptions(); }
  else if ((k === "x" || k === "X") && (QC.check.field_kind === "single" || QC.check.field_kind === "code")) { e.preventDefault(); QC.choice = { invalid: true }; drawOptions(); }
  else if (k === "Enter") { e.preventDefault(); record(); }
}

officePage(["admin", "reviewer"], async (me, onLang) => {
  const rounds = (await api("GET", "/api/rounds")).filter((r) => r.state !== "closed");
  $q("qc-round").replaceChildren(...rounds.map((r) => h("option", { value: String(r.id) }, r.name)));
  $q("qc-view").tabIndex = -1;
  $q("qc-filters").addEventListener("submit", async (e) => {
    e.preventDefault();
    QC.round = $q("qc-round").value;
    if (!QC.round) return;
    try { await next(); } catch (err) { $q("page-error").textContent = apiErrorText(err); }
  });
  $q("qc-save").addEventListener("click", record);
  document.addEventListener("keydown", onKey);
  onLang(() => { if (QC.check) { $q("qc-stage").textContent = t(QC.check.stage === "second" ? "qc_second" : "qc_first"); drawOptions(); } });
  $q("qc-start").focus();
});
