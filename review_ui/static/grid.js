// Grid review: a screen of crops of one question, one reason and one engine proposal (GET /api/review/grid);
// Enter stores every crop shown at once (POST /api/review/bulk: each crop its proposal, or the value the
// reviewer gave it), a digit or a click corrects the crop that has the focus, U undoes the last grid saved.
// Loaded after i18n.js, api.js and nav.js; no page reaches into another's code.
"use strict";

Object.assign(STRINGS.vi, {
  gr_open: "Xem cả trang (O)", gr_check: "Kiểm tra chất lượng", gr_title: "Duyệt theo lưới", gr_size: "Số mục mỗi lưới", gr_start: "Bắt đầu", gr_single: "Duyệt từng mục",
  gr_save: "Lưu cả lưới: {n} mục (Enter)", gr_undo: "Hoàn tác lưới vừa lưu (U)",
  gr_meta_reason: "Lý do", gr_meta_prop: "Máy đọc", gr_meta_group: "nhóm có {n} mục", gr_meta_left: "còn {n} nhóm",
  gr_saved: "Đã lưu {n} mục ({k} ô đã sửa).", gr_undone: "Đã hoàn tác lưới: {n} mục trở lại hàng đợi.",
  gr_nothing_undo: "Chưa có lưới nào để hoàn tác.", gr_done: "Không còn mục nào để duyệt theo lưới trong đợt này. Các trang cần quyết định riêng nằm ở trang Duyệt từng mục.",
  gr_blank: "trống", gr_invalid: "không hợp lệ", gr_sheet: "phiếu", gr_cell: "Ô {k}, phiếu {s}: {v}", gr_fixed: "đã sửa",
  gr_left: "Còn {n} mục chờ duyệt trong đợt.", gr_conflict: "Có mục vừa được người khác giữ hoặc quyết định; lưới đã được tải lại.",
  gr_keys: "Enter: lưu cả lưới (mỗi ô theo máy đọc, trừ ô đã sửa) · ←→↑↓: chọn ô · 1–9: sửa ô đang chọn · 0: để trống · X: không hợp lệ · Delete: bỏ sửa · O: xem cả trang · U: hoàn tác lưới vừa lưu",
});
Object.assign(STRINGS.en, {
  gr_open: "Whole page (O)", gr_check: "Quality check", gr_title: "Grid review", gr_size: "Items per grid", gr_start: "Start", gr_single: "One by one",
  gr_save: "Save the whole grid: {n} items (Enter)", gr_undo: "Undo the last grid (U)",
  gr_meta_reason: "Reason", gr_meta_prop: "Engine read", gr_meta_group: "group of {n} items", gr_meta_left: "{n} groups left",
  gr_saved: "Saved {n} items ({k} corrected).", gr_undone: "Grid undone: {n} items back in the queue.",
  gr_nothing_undo: "No grid to undo yet.", gr_done: "Nothing left to review in grids in this round. Pages that need a decision of their own are on the one-by-one page.",
  gr_blank: "blank", gr_invalid: "invalid", gr_sheet: "sheet", gr_cell: "Cell {k}, sheet {s}: {v}", gr_fixed: "corrected",
  gr_left: "{n} items left to review in the round.", gr_conflict: "Some items were taken or decided by someone else meanwhile; the grid was reloaded.",
  gr_keys: "Enter: save the whole grid (each cell as the engine read it, unless corrected) · ←→↑↓: pick a cell · 1–9: correct the picked cell · 0: blank · X: invalid · Delete: drop the correction · O: the whole page · U: undo the last grid",
});

const $g = (id) => document.getElementById(id);
const G = {
  round: null, group: null, items: [], fixes: new Map(), current: 0, busy: false,
  undo: [],  // grids saved here, newest last: {ids, group}
};

function fmt(key, vals) { return t(key).replace(/\{(\w+)\}/g, (_, k) => String(vals[k])); }

function optionLabel(item, v) {
  const o = (item.options || []).find((x) => x.value === v);
  return o ? o.label : "";
}

// what a cell stores when the grid is saved: its correction, else the engine's proposal
function cellValue(item) {
  if (G.fixes.has(item.id)) return G.fixes.get(item.id);
  if (item.status === "multiple") return { invalid: true };
  return { value: item.proposed };
}

function valueText(item, cv) {
  if (cv.invalid) return t("gr_invalid");
  const v = cv.value;
  if (v === null || v === undefined || (Array.isArray(v) && !v.length)) return t("gr_blank");
  return Array.isArray(v) ? v.join(", ") : String(v);
}

function valueTitle(item, cv) {
  if (cv.invalid || cv.value === null || cv.value === undefined) return valueText(item, cv);
  const vs = Array.isArray(cv.value) ? cv.value : [cv.value];
  return vs.map((v) => `${v} ${optionLabel(item, v)}`.trim()).join(", ");
}

function columns() {
  const cols = getComputedStyle($g("gr-cells")).gridTemplateColumns.split(" ").filter(Boolean).length;
  return Math.max(1, cols);
}

function renderMeta() {
  const g = G.group;
  const first = G.items[0];
  $g("gr-question").textContent = `${g.field_id} · ${g.question || ""}`;
  const meta = $g("gr-meta");
  const prop = first ? valueTitle(first, cellValue(first)) : "";
  meta.replaceChildren(
    t("gr_meta_reason") + ": ", h("span", { class: "reason" }, reasonText(g.reason)), " · ",
    t("gr_meta_prop") + ": ", h("span", { class: "proposal" }, prop), " · ",
    fmt("gr_meta_group", { n: g.count }), G.groupsLeft ? " · " + fmt("gr_meta_left", { n: G.groupsLeft }) : "");
  $g("gr-save").textContent = fmt("gr_save", { n: G.items.length });
}

function renderCells(focus = true) {
  const box = $g("gr-cells");
  box.replaceChildren();
  G.items.forEach((item, k) => {
    const cv = cellValue(item);
    const fixed = G.fixes.has(item.id);
    const label = fmt("gr_cell", { k: k + 1, s: item.sheet || "?", v: valueTitle(item, cv) }) + (fixed ? ` (${t("gr_fixed")})` : "");
    const cell = h("div", { class: "gcell" + (fixed ? " fixed" : "") + (k === G.current ? " current" : ""), role: "button",
      tabindex: k === G.current ? "0" : "-1", "data-item-id": String(item.id), "aria-label": label, title: valueTitle(item, cv),
      onclick: () => { G.current = k; renderCells(); } },
      h("span", { class: "gval" }, valueText(item, cv)),
      h("span", { class: "gnum" }, `${k + 1} · ${t("gr_sheet")} ${item.sheet || "?"}`),
      h("img", { src: item.image_url + "?part=boxes", alt: "", loading: "eager", draggable: "false" }));
    if (k === G.current && item.field_kind !== "text") {
      const opts = h("div", { class: "gopts", role: "group" });
      for (const o of item.options || []) {
        opts.append(h("button", { type: "button", tabindex: "-1", title: o.label, "aria-label": `${o.value} ${o.label}`,
          onclick: (e) => { e.stopPropagation(); setDigit(o.value); } }, String(o.value)));
      }
      opts.append(h("a", { href: `page.html?id=${item.page_id}`, target: "_blank", rel: "noopener", tabindex: "-1",
        onclick: (e) => e.stopPropagation() }, t("gr_open")));
      cell.append(opts);
    }
    box.append(cell);
  });
  const cur = box.children[G.current];
  if (focus && cur) cur.focus({ preventScroll: false });
  window.__gridRender = { at: performance.now(), ids: G.items.map((i) => i.id), fixes: Object.fromEntries(G.fixes) };
}

function show(grid) {
  G.group = grid.group;
  G.groupsLeft = grid.groups_left;
  G.items = grid.items;
  G.fixes = new Map();
  G.current = 0;
  $g("gr-done").hidden = true;
  $g("gr-view").hidden = false;
  $g("gr-undo").disabled = !G.undo.length;
  renderMeta();
  renderCells();
}

function showDone() {
  G.items = [];
  $g("gr-view").hidden = true;
  $g("gr-done").hidden = false;
  $g("gr-done-text").textContent = t("gr_done");
  window.__gridRender = { at: performance.now(), ids: [], fixes: {} };
}

async function loadGrid() {
  const q = new URLSearchParams({ round: G.round, size: $g("gr-size").value });
  let grid = null;
  if (G.group) {  // the same group first (cheap for the server); then the largest group left
    grid = await api("GET", "/api/review/grid?" + new URLSearchParams({ ...Object.fromEntries(q), group: G.group.key }));
    if (grid !== null && grid.groups_left === null) grid.groups_left = G.groupsLeft;
  }
  if (grid === null) grid = await api("GET", "/api/review/grid?" + q);
  if (grid === null) showDone(); else show(grid);
  progress();
}

async function progress() {
  try {
    const p = await api("GET", "/api/progress?" + new URLSearchParams({ round: G.round }));
    const f = $g("gr-flash");
    f.dataset.left = String(p.left);
    f.title = fmt("gr_left", { n: p.left });
  } catch (e) { /* progress is a courtesy */ }
}

function setDigit(v) {
  const item = G.items[G.current];
  if (!item || item.field_kind === "text") return;
  if (!(item.options || []).some((o) => o.value === v)) return;
  if (item.field_kind === "multiple") {
    const base = cellValue(item);
    const set = new Set(Array.isArray(base.value) ? base.value : []);
    if (set.has(v)) set.delete(v); else set.add(v);
    G.fixes.set(item.id, { value: [...set].sort((a, b) => a - b) });
  } else if (v === item.proposed && item.status !== "multiple") {
    G.fixes.delete(item.id);  // back to what the engine read
  } else {
    G.fixes.set(item.id, { value: v });
  }
  renderCells();
}

function setFix(kind) {
  const item = G.items[G.current];
  if (!item) return;
  if (kind === "clear") G.fixes.delete(item.id);
  else if (kind === "blank") G.fixes.set(item.id, { value: item.field_kind === "multiple" ? [] : null });
  else if (kind === "invalid" && (item.field_kind === "single" || item.field_kind === "code")) G.fixes.set(item.id, { invalid: true });
  renderCells();
}

async function save() {
  if (G.busy || !G.items.length) return;
  G.busy = true;
  $g("gr-error").textContent = "";
  const items = G.items.map((i) => {
    const x = { id: i.id, revision: i.revision };
    if (G.fixes.has(i.id)) Object.assign(x, G.fixes.get(i.id));
    return x;
  });
  try {
    const r = await api("POST", "/api/review/bulk", { accept: true, items });
    G.undo.push({ ids: items.map((i) => i.id), group: G.group });
    $g("gr-flash").textContent = fmt("gr_saved", { n: r.decided, k: G.fixes.size });
    await loadGrid();
  } catch (e) {
    if (e.status === 409) {
      $g("gr-error").textContent = t("gr_conflict");
      await loadGrid().catch((e2) => { $g("gr-error").textContent = apiErrorText(e2); });
    } else {
      $g("gr-error").textContent = apiErrorText(e);
    }
  } finally {
    G.busy = false;
  }
}

async function undoGrid() {
  if (G.busy) return;
  const last = G.undo[G.undo.length - 1];
  if (!last) { $g("gr-flash").textContent = t("gr_nothing_undo"); return; }
  G.busy = true;
  $g("gr-error").textContent = "";
  try {
    const r = await api("POST", "/api/review/bulk/undo", { items: last.ids });
    G.undo.pop();
    $g("gr-flash").textContent = fmt("gr_undone", { n: r.undone });
    show({ group: last.group, items: r.items, groups_left: G.groupsLeft });
    progress();
  } catch (e) {
    $g("gr-error").textContent = apiErrorText(e);
  } finally {
    G.busy = false;
  }
}

function move(d) {
  if (!G.items.length) return;
  G.current = Math.min(G.items.length - 1, Math.max(0, G.current + d));
  renderCells();
}

function onKey(e) {
  if ($g("gr-view").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = (e.target && e.target.tagName) || "";
  if (tag === "SELECT" || tag === "INPUT" || tag === "TEXTAREA") return;
  if (e.target && e.target.closest && e.target.closest("#gr-filters")) return;
  if (tag === "BUTTON" && e.key === "Enter" && !e.target.closest(".gcell")) return;  // the button's own action
  const k = e.key;
  if (k === "Enter") { e.preventDefault(); save(); }
  else if (k === "ArrowRight") { e.preventDefault(); move(1); }
  else if (k === "ArrowLeft") { e.preventDefault(); move(-1); }
  else if (k === "ArrowDown") { e.preventDefault(); move(columns()); }
  else if (k === "ArrowUp") { e.preventDefault(); move(-columns()); }
  else if (/^[1-9]$/.test(k)) { e.preventDefault(); setDigit(Number(k)); }
  else if (k === "0" || k === "Backspace") { e.preventDefault(); setFix("blank"); }
  else if (k === "x" || k === "X") { e.preventDefault(); setFix("invalid"); }
  else if (k === "Delete") { e.preventDefault(); setFix("clear"); }
  else if (k === "u" || k === "U") { e.preventDefault(); undoGrid(); }
  else if ((k === "o" || k === "O") && G.items[G.current]) {  // the crop's whole page, alone, in a new tab
    e.preventDefault();
    window.open(`page.html?id=${G.items[G.current].page_id}`, "_blank", "noopener");
  }
}

officePage(["admin", "reviewer"], async (me, onLang) => {
  const rounds = await api("GET", "/api/rounds");
  const open = rounds.filter((r) => r.state !== "closed");
  $g("gr-round").replaceChildren(...open.map((r) => h("option", { value: String(r.id) }, r.name)));
  const want = new URLSearchParams(location.search).get("round");
  if (want && open.some((r) => String(r.id) === want)) $g("gr-round").value = want;
  $g("gr-filters").addEventListener("submit", async (e) => {
    e.preventDefault();
    G.round = $g("gr-round").value;
    if (!G.round) return;
    try { await loadGrid(); } catch (err) { $g("page-error").textContent = apiErrorText(err); }
  });
  $g("gr-save").addEventListener("click", save);
  $g("gr-undo").addEventListener("click", undoGrid);
  document.addEventListener("keydown", onKey);
  onLang(() => { if (G.items.length) { renderMeta(); renderCells(false); } else if (!$g("gr-done").hidden) showDone(); });
  $g("gr-start").focus();
});
