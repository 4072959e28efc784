// The questionnaire designer (admin): a template draft (the YAML structure as JSON, docs/template-format.md)
// edited in place; every change is checked (POST /api/templates/check) and previewed as printed
// (POST /api/templates/preview?page=N), debounced, the latest request winning. A problem's `where` path
// (pages[0].sections[1].questions[2].options) is the data-where of the field that shows it. Reorder by
// drag (the ⠿ handle) or by keyboard: Alt+ArrowUp/Down on a focused question or section.
"use strict";

const $d = (id) => document.getElementById(id);
const DEBOUNCE_MS = 250;
const DS = {
  draft: null,          // the template being edited
  shared: {},           // GET /api/templates/option-sets
  templates: [],        // GET /api/templates
  opened: null,         // {id, version, frozen, origin} of what was opened or saved last
  problems: [],
  pages: null,          // page count from the last good check
  page: 1,              // the page previewed
  timer: null,
  seq: 0,               // latest refresh; older answers are dropped
  ctrl: null,           // AbortController of the refresh in flight
  drag: null,           // {type: "q"|"s", p, s, q}
  tab: "preview",
  shown: null,          // {seq, ms, at} of the last preview drawn: ms from the request to the decoded image
};
// printed when a form gives no instructions of its own (omr/template.py DEFAULT_INSTRUCTIONS)
const DEFAULT_INSTRUCTIONS = "Đánh dấu X vào ô lựa chọn. Muốn sửa, tô kín ô đã đánh dấu rồi đánh dấu X vào ô khác.";
const OPTIONAL_TEXT = ["subtitle", "issuer", "issuer_sub", "intro", "instructions", "closing"];

// ------------------------------------------------------------------ the draft
function emptyDraft() {
  return { id: "", title: "PHIẾU KHẢO SÁT", national_header: true, option_sets: {}, pages: [{ sections: [] }],
    indices: { satisfied_values: [4, 5], scale: [1, 5], elements: [] }, respondent_groups: [] };
}

// A draft as the server gave it, completed with what the editor needs (empty lists, an index block).
function normalise(tpl) {
  const d = JSON.parse(JSON.stringify(tpl || {}));
  d.option_sets = d.option_sets && typeof d.option_sets === "object" ? d.option_sets : {};
  d.pages = Array.isArray(d.pages) && d.pages.length ? d.pages : [{ sections: [] }];
  for (const p of d.pages) {
    p.sections = Array.isArray(p.sections) ? p.sections : [];
    for (const s of p.sections) s.questions = Array.isArray(s.questions) ? s.questions : [];
  }
  if (!d.indices || typeof d.indices !== "object") d.indices = { satisfied_values: [4, 5], scale: [1, 5], elements: [] };
  d.indices.elements = Array.isArray(d.indices.elements) ? d.indices.elements : [];
  for (const e of d.indices.elements) e.criteria = Array.isArray(e.criteria) ? e.criteria : [];
  d.respondent_groups = Array.isArray(d.respondent_groups) ? d.respondent_groups : [];
  return d;
}

// What is sent to the server: empty optional text left out, each question with only its kind's fields.
function cleanDraft(d) {
  const c = JSON.parse(JSON.stringify(d));
  delete c.version;
  for (const k of OPTIONAL_TEXT) if (typeof c[k] === "string" && !c[k].trim()) delete c[k];
  for (const p of c.pages) {
    for (const s of p.sections) {
      for (const k of ["title", "note"]) if (typeof s[k] === "string" && !s[k].trim()) delete s[k];
      if (s.grid === null || s.grid === "") delete s.grid;
      for (const q of s.questions) {
        if (typeof q.number === "string" && !q.number.trim()) delete q.number;
        const kind = s.grid ? "single" : (q.kind || "single");
        if (s.grid || !["single", "multiple"].includes(kind)) { delete q.options; delete q.columns; }
        if (kind !== "code") delete q.digits;
        if (kind !== "text") delete q.lines;
        for (const k of ["columns", "digits", "lines"]) if (q[k] === null || q[k] === "" || Number.isNaN(q[k])) delete q[k];
      }
    }
  }
  if (!c.indices || !c.indices.elements.length) delete c.indices;
  if (!c.respondent_groups || !c.respondent_groups.length) delete c.respondent_groups;
  return c;
}

function qWhere(p, s, q) { return `pages[${p}].sections[${s}].questions[${q}]`; }
function sWhere(p, s) { return `pages[${p}].sections[${s}]`; }

function allQuestions() {
  const out = [];
  DS.draft.pages.forEach((pg, p) => pg.sections.forEach((sec, s) => sec.questions.forEach((q, k) =>
    out.push({ q, p, s, k, grid: !!sec.grid, single: !!sec.grid || (q.kind || "single") === "single" }))));
  return out;
}

function newId(prefix) {
  const used = new Set(allQuestions().map((x) => x.q.id));
  let n = used.size + 1;
  while (used.has(`${prefix}${n}`)) n += 1;
  return `${prefix}${n}`;
}

// Options typed one per line, "1 = Nam"; a line without "value =" takes the next number.
function parseOptions(text) {
  const out = [];
  let next = 1;
  for (const raw of String(text).split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(-?\d+)\s*=\s*(.*)$/.exec(line);
    if (m) { out.push({ value: Number(m[1]), label: m[2].trim() }); next = Number(m[1]) + 1; } else { out.push({ value: next, label: line }); next += 1; }
  }
  return out;
}
const optionsText = (list) => (Array.isArray(list) ? list.map((o) => `${o.value} = ${o.label}`).join("\n") : "");

// a question id renamed: the index elements and respondent groups follow it
function renameRefs(oldId, newIdText) {
  if (!oldId || oldId === newIdText) return;
  const ids = allQuestions().map((x) => x.q.id);
  // while the id is typed it may pass through another question's id: references stay with the one they named
  if (ids.filter((i) => i === newIdText).length > 1 || ids.includes(oldId)) return;
  for (const e of DS.draft.indices.elements) e.criteria = e.criteria.map((c) => (c === oldId ? newIdText : c));
  DS.draft.respondent_groups = DS.draft.respondent_groups.map((c) => (c === oldId ? newIdText : c));
}
function dropRefs(id) {
  for (const e of DS.draft.indices.elements) e.criteria = e.criteria.filter((c) => c !== id);
  DS.draft.respondent_groups = DS.draft.respondent_groups.filter((c) => c !== id);
}

// ------------------------------------------------------------------ small form pieces
function changed(opts) {
  if (opts && opts.render) renderEditor();
  const inSide = $d("panel-indices").contains(document.activeElement);
  if ((opts && opts.side) || (DS.tab === "indices" && !inSide)) renderIndices();
  schedule();
}

function field(labelKey, where, input, extraClass) {
  input.dataset.where = where;
  const wrap = h("label", { class: `ds-field${extraClass ? " " + extraClass : ""}`, "data-slot": where }, h("span", {}, t(labelKey)), input);
  wrap.append(h("span", { class: "fp", "aria-live": "off" }));
  return wrap;
}

function textInput(obj, key, where, labelKey, attrs, onInput) {
  const { wide, ...rest } = attrs || {};
  const inp = h("input", Object.assign({ type: "text" }, rest));
  inp.value = obj[key] === undefined || obj[key] === null ? "" : String(obj[key]);
  inp.addEventListener("input", () => { const old = obj[key]; obj[key] = inp.value; if (onInput) onInput(old, inp.value); changed(); });
  return field(labelKey, where, inp, wide ? "wide" : "");
}

function areaInput(obj, key, where, labelKey, rows, placeholder) {
  const inp = h("textarea", { rows: String(rows || 2), placeholder: placeholder || null });
  inp.value = obj[key] || "";
  inp.addEventListener("input", () => { obj[key] = inp.value; changed(); });
  return field(labelKey, where, inp, "wide");
}

function numberInput(obj, key, where, labelKey, min, max) {
  const inp = h("input", { type: "number", min: String(min), max: String(max), class: "num" });
  inp.value = obj[key] === undefined || obj[key] === null ? "" : String(obj[key]);
  inp.addEventListener("input", () => { obj[key] = inp.value === "" ? null : Number(inp.value); changed(); });
  return field(labelKey, where, inp);
}

function setNames() {
  return [...new Set([...Object.keys(DS.draft.option_sets), ...Object.keys(DS.shared)])];
}

// Options of a question, or the scale of a grid section: typed, or the name of an option set
// (a shared set is copied into the draft's option_sets when chosen).
function optionSource(obj, key, where, labelKey, allowNone) {
  const wrap = h("div", { class: "ds-optsrc" });
  const sel = h("select", {});
  if (allowNone) sel.append(h("option", { value: "" }, t("ds_no_grid")));
  sel.append(h("option", { value: "\u0000typed" }, t("ds_typed")));
  for (const n of setNames()) sel.append(h("option", { value: n }, DS.draft.option_sets[n] ? n : `${n} ${t("ds_shared_mark")}`));
  const cur = obj[key];
  sel.value = typeof cur === "string" ? cur : Array.isArray(cur) ? "\u0000typed" : (allowNone ? "" : "\u0000typed");
  if (typeof cur === "string" && !setNames().includes(cur)) sel.append(h("option", { value: cur, selected: true }, `${cur} ?`));
  sel.addEventListener("change", () => {
    const v = sel.value;
    if (v === "") delete obj[key];
    else if (v === "\u0000typed") obj[key] = Array.isArray(cur) ? cur : (typeof cur === "string" && DS.draft.option_sets[cur] ? JSON.parse(JSON.stringify(DS.draft.option_sets[cur])) : []);
    else {
      if (!DS.draft.option_sets[v] && DS.shared[v]) DS.draft.option_sets[v] = JSON.parse(JSON.stringify(DS.shared[v]));
      obj[key] = v;
    }
    changed({ render: true, side: true });
  });
  wrap.append(field(labelKey, where, sel));
  if (Array.isArray(obj[key])) {
    const ta = h("textarea", { rows: String(Math.max(2, Math.min(7, obj[key].length + 1))), class: "ds-opts", placeholder: "1 = …", "aria-label": `${t(labelKey)}: ${t("ds_one_per_line")}` });
    ta.value = optionsText(obj[key]);
    ta.addEventListener("input", () => { obj[key] = parseOptions(ta.value); changed(); });
    const f = field("ds_one_per_line", where, ta, "wide");
    delete sel.dataset.where;  // the problems of these options show at the list
    wrap.append(f);
  } else if (typeof obj[key] === "string") {
    const set = DS.draft.option_sets[obj[key]] || DS.shared[obj[key]] || [];
    wrap.append(h("p", { class: "muted ds-setview" }, set.map((o) => `${o.value} ${o.label}`).join(" · ")));
  }
  return wrap;
}

function iconButton(text, label, onclick, extra) {
  return h("button", Object.assign({ type: "button", class: "ds-icon", "aria-label": label, title: label, onclick }, extra || {}), text);
}

// ------------------------------------------------------------------ the editor
function renderEditor() {
  const focus = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.where : null;
  const ed = $d("ds-editor");
  ed.replaceChildren(renderGeneral(), renderOptionSets(), ...DS.draft.pages.map((pg, p) => renderPage(pg, p)),
    h("div", { class: "ds-add-row" }, h("button", { type: "button", id: "ds-add-page", onclick: () => {
      DS.draft.pages.push({ sections: [] });
      changed({ render: true });
    } }, t("ds_add_page"))));
  showProblems();
  if (focus) focusWhere(focus, false);
}

function renderGeneral() {
  const d = DS.draft;
  const card = h("fieldset", { class: "card ds-general", "data-slot": "" }, h("legend", {}, t("ds_general")));
  const nh = h("input", { type: "checkbox" });
  nh.checked = d.national_header !== false;
  nh.addEventListener("change", () => { d.national_header = nh.checked; changed(); });
  nh.dataset.where = "national_header";
  card.append(
    h("div", { class: "ds-row" },
      textInput(d, "id", "id", "ds_id", { id: "ds-id", size: "16", pattern: "[a-z0-9-]+", spellcheck: "false" }),
      textInput(d, "title", "title", "ds_f_title", { id: "ds-f-title", size: "30" })),
    textInput(d, "subtitle", "subtitle", "ds_subtitle", { wide: true }),
    h("div", { class: "ds-row" },
      textInput(d, "issuer", "issuer", "ds_issuer", { size: "34" }),
      textInput(d, "issuer_sub", "issuer_sub", "ds_issuer_sub", { size: "28" })),
    h("label", { class: "ds-check-label" }, nh, " ", t("ds_national")),
    h("div", { class: "ds-two" }, areaInput(d, "intro", "intro", "ds_intro", 3), areaInput(d, "instructions", "instructions", "ds_instructions", 3, DEFAULT_INSTRUCTIONS)),
    textInput(d, "closing", "closing", "ds_closing", { wide: true }),
    h("span", { class: "fp" }));
  return card;
}

function renderOptionSets() {
  const d = DS.draft;
  const card = h("details", { class: "card ds-sets", open: Object.keys(d.option_sets).length ? true : null },
    h("summary", {}, `${t("ds_option_sets")} (${Object.keys(d.option_sets).length})`));
  for (const name of Object.keys(d.option_sets)) {
    const where = `option_sets.${name}`;
    const box = h("div", { class: "ds-set", "data-slot": where });
    const nameIn = h("input", { type: "text", size: "12", value: name, spellcheck: "false" });
    nameIn.addEventListener("change", () => {
      const nn = nameIn.value.trim();
      if (!nn || nn === name || d.option_sets[nn]) { nameIn.value = name; return; }
      d.option_sets[nn] = d.option_sets[name];
      delete d.option_sets[name];
      for (const pg of d.pages) for (const s of pg.sections) {
        if (s.grid === name) s.grid = nn;
        for (const q of s.questions) if (q.options === name) q.options = nn;
      }
      changed({ render: true });
    });
    const ta = h("textarea", { rows: String(Math.min(7, d.option_sets[name].length + 1)), class: "ds-opts" });
    ta.value = optionsText(d.option_sets[name]);
    ta.addEventListener("input", () => { d.option_sets[name] = parseOptions(ta.value); changed(); });
    box.append(field("ds_set_name", `${where}.__name`, nameIn), field("ds_one_per_line", where, ta, "wide"),
      iconButton("✕", `${t("ds_delete")}: ${name}`, () => { delete d.option_sets[name]; changed({ render: true }); }));
    card.append(box);
  }
  card.append(h("button", { type: "button", onclick: () => {
    let n = 1;
    while (d.option_sets[`bo${n}`]) n += 1;
    d.option_sets[`bo${n}`] = [];
    changed({ render: true });
    focusWhere(`option_sets.bo${n}.__name`);
  } }, t("ds_add_set")));
  return card;
}

function renderPage(pg, p) {
  const box = h("div", { class: "ds-page", "data-slot": `pages[${p}]` },
    h("h2", { class: "ds-page-h" }, `${t("ds_page")} ${p + 1}`,
      DS.draft.pages.length > 1 && !pg.sections.length ? iconButton("✕", `${t("ds_delete")}: ${t("ds_page")} ${p + 1}`, () => { DS.draft.pages.splice(p, 1); changed({ render: true }); }) : null),
    h("span", { class: "fp" }));
  pg.sections.forEach((sec, s) => box.append(renderSection(sec, p, s)));
  box.append(h("button", { type: "button", class: "ds-add-section", onclick: () => {
    pg.sections.push({ title: "", questions: [] });
    changed({ render: true });
    focusWhere(`${sWhere(p, pg.sections.length - 1)}.title`);
  } }, `${t("ds_add_section")} (${t("ds_page")} ${p + 1})`));
  return box;
}

function renderSection(sec, p, s) {
  const where = sWhere(p, s);
  const card = h("fieldset", { class: "card ds-section", "data-slot": where, "data-kind": "s", "data-p": p, "data-s": s });
  const handle = h("span", { class: "ds-handle", draggable: "true", title: t("ds_drag"), "aria-hidden": "true" }, "⠿");
  handle.addEventListener("dragstart", (ev) => { DS.drag = { type: "s", p, s }; ev.dataTransfer.setData("text/plain", where); ev.dataTransfer.effectAllowed = "move"; card.classList.add("dragging"); document.body.classList.add("ds-dragging"); });
  handle.addEventListener("dragend", () => { DS.drag = null; card.classList.remove("dragging"); document.body.classList.remove("ds-dragging"); });
  const label = `${t("ds_section")} ${s + 1}${sec.title ? ": " + sec.title : ""}`;
  card.append(h("legend", {}, handle, ` ${t("ds_section")} ${s + 1}`),
    h("div", { class: "ds-tools" },
      iconButton("↑", `${t("ds_up")}: ${label}`, () => moveSection(p, s, -1)),
      iconButton("↓", `${t("ds_down")}: ${label}`, () => moveSection(p, s, 1)),
      iconButton("✕", `${t("ds_delete")}: ${label}`, () => {
        for (const q of sec.questions) dropRefs(q.id);
        DS.draft.pages[p].sections.splice(s, 1);
        changed({ render: true, side: true });
        say(t("ds_deleted").replace("{w}", label));
        if (!focusWhere(`${sWhere(p, Math.min(s, DS.draft.pages[p].sections.length - 1))}.title`)) document.querySelector(`[data-slot="pages[${p}]"] > .ds-add-section`).focus();
      })),
    h("div", { class: "ds-row" },
      textInput(sec, "title", `${where}.title`, "ds_s_title", { size: "34" }),
      optionSource(sec, "grid", `${where}.grid`, "ds_grid", true)),
    textInput(sec, "note", `${where}.note`, "ds_note", { wide: true }),
    h("span", { class: "fp" }));
  card.addEventListener("keydown", (ev) => {
    if (!ev.altKey || (ev.key !== "ArrowUp" && ev.key !== "ArrowDown")) return;
    ev.preventDefault();
    moveSection(p, s, ev.key === "ArrowUp" ? -1 : 1);
  });
  dropTarget(card, "s", p, s);
  const list = h("div", { class: "ds-questions" });
  sec.questions.forEach((q, k) => list.append(renderQuestion(sec, q, p, s, k)));
  const end = h("div", { class: "ds-drop-end" }, t("ds_drop_here"));
  dropTarget(end, "q-end", p, s);
  list.append(end);
  card.append(list, h("button", { type: "button", class: "ds-add-q", onclick: () => {
    sec.questions.push(sec.grid ? { id: newId("c"), text: "" } : { id: newId("q"), kind: "single", text: "", options: [] });
    changed({ render: true, side: true });
    focusWhere(`${qWhere(p, s, sec.questions.length - 1)}.text`);
  } }, `${t("ds_add_question")}${sec.title ? " · " + sec.title.slice(0, 30) : ""}`));
  return card;
}

function renderQuestion(sec, q, p, s, k) {
  const where = qWhere(p, s, k);
  const kind = sec.grid ? "single" : (q.kind || "single");
  const card = h("fieldset", { class: "ds-question", "data-slot": where, "data-kind": "q", "data-p": p, "data-s": s, "data-q": k });
  const handle = h("span", { class: "ds-handle", draggable: "true", title: t("ds_drag"), "aria-hidden": "true" }, "⠿");
  handle.addEventListener("dragstart", (ev) => { ev.stopPropagation(); DS.drag = { type: "q", p, s, q: k }; ev.dataTransfer.setData("text/plain", where); ev.dataTransfer.effectAllowed = "move"; card.classList.add("dragging"); document.body.classList.add("ds-dragging"); });
  handle.addEventListener("dragend", () => { DS.drag = null; card.classList.remove("dragging"); document.body.classList.remove("ds-dragging"); });
  const label = `${t("ds_question")} ${q.number || k + 1}${q.text ? ": " + q.text.slice(0, 40) : ""}`;
  card.append(h("legend", {}, handle, ` ${t("ds_question")} ${k + 1}`, h("span", { class: "muted ds-qid" }, ` · ${q.id || ""}`)),
    h("div", { class: "ds-tools" },
      iconButton("↑", `${t("ds_up")}: ${label}`, () => moveQuestion(p, s, k, -1)),
      iconButton("↓", `${t("ds_down")}: ${label}`, () => moveQuestion(p, s, k, 1)),
      iconButton("✕", `${t("ds_delete")}: ${label}`, () => {
        dropRefs(q.id);
        sec.questions.splice(k, 1);
        changed({ render: true, side: true });
        say(t("ds_deleted").replace("{w}", label));
        if (!focusWhere(`${qWhere(p, s, Math.min(k, sec.questions.length - 1))}.text`)) document.querySelector(`[data-slot="${sWhere(p, s)}"] > .ds-add-q`).focus();
      })));
  const kindSel = h("select", {});
  for (const kd of ["single", "multiple", "text", "code"]) kindSel.append(h("option", { value: kd }, word("ds_kinds", kd)));
  kindSel.value = kind;
  kindSel.addEventListener("change", () => {
    q.kind = kindSel.value;
    if (["single", "multiple"].includes(q.kind) && q.options === undefined) q.options = [];
    if (q.kind === "code" && !q.digits) q.digits = 3;
    if (q.kind === "text" && !q.lines) q.lines = 3;
    if (q.kind !== "single") dropRefs(q.id);
    changed({ render: true, side: true });
  });
  const text = textInput(q, "text", `${where}.text`, "ds_q_text", { wide: true });
  text.classList.add("ds-grow");
  card.append(h("div", { class: "ds-row" },
    textInput(q, "number", `${where}.number`, "ds_number", { size: "3", class: "short" }),
    textInput(q, "id", `${where}.id`, "ds_qid", { size: "10", class: "mid", spellcheck: "false" }, (old, nv) => { renameRefs(old, nv); renderIndices(); card.querySelector(".ds-qid").textContent = ` · ${nv}`; }),
    sec.grid ? null : field("ds_kind", `${where}.kind`, kindSel), text));
  const more = h("div", { class: "ds-row" });
  if (!sec.grid && (kind === "single" || kind === "multiple")) {
    more.append(optionSource(q, "options", `${where}.options`, "ds_options", false), numberInput(q, "columns", `${where}.columns`, "ds_columns", 1, 6));
  }
  if (kind === "code") more.append(numberInput(q, "digits", `${where}.digits`, "ds_digits", 1, 10));
  if (kind === "text") more.append(numberInput(q, "lines", `${where}.lines`, "ds_lines", 1, 12));
  if (kind === "single") more.append(elementPicker(q));
  if (more.childNodes.length) card.append(more);
  card.append(h("span", { class: "fp" }));
  card.addEventListener("keydown", (ev) => {
    if (!ev.altKey || (ev.key !== "ArrowUp" && ev.key !== "ArrowDown")) return;
    ev.preventDefault();
    ev.stopPropagation();
    moveQuestion(p, s, k, ev.key === "ArrowUp" ? -1 : 1);
  });
  dropTarget(card, "q", p, s, k);
  return card;
}

// the index element a single-choice question counts in, chosen beside the question
function elementPicker(q) {
  const els = DS.draft.indices.elements;
  const sel = h("select", { class: "ds-el-pick" });
  sel.append(h("option", { value: "" }, t("ds_no_element")));
  els.forEach((e, i) => sel.append(h("option", { value: String(i) }, `${e.id}${e.name ? " · " + e.name.slice(0, 40) : ""}`)));
  const at = els.findIndex((e) => e.criteria.includes(q.id));
  sel.value = at >= 0 ? String(at) : "";
  sel.disabled = !els.length;
  sel.addEventListener("change", () => {
    for (const e of els) e.criteria = e.criteria.filter((c) => c !== q.id);
    if (sel.value !== "") els[Number(sel.value)].criteria.push(q.id);
    changed({ side: true });
  });
  return field(els.length ? "ds_element" : "ds_element_none", "", sel, "ds-el");
}

// ------------------------------------------------------------------ moving: keyboard and drag
function moveQuestion(p, s, k, delta) {
  const flat = [];
  DS.draft.pages.forEach((pg, pi) => pg.sections.forEach((sec, si) => flat.push([pi, si])));
  const secIdx = flat.findIndex(([pi, si]) => pi === p && si === s);
  const list = DS.draft.pages[p].sections[s].questions;
  const [q] = list.splice(k, 1);
  let to;
  if (k + delta >= 0 && k + delta <= list.length && !(delta > 0 && k === list.length)) {
    list.splice(k + delta, 0, q);
    to = qWhere(p, s, k + delta);
  } else if (flat[secIdx + delta]) {
    const [np, ns] = flat[secIdx + delta];
    const other = DS.draft.pages[np].sections[ns].questions;
    if (delta < 0) { other.push(q); to = qWhere(np, ns, other.length - 1); } else { other.unshift(q); to = qWhere(np, ns, 0); }
  } else {
    list.splice(k, 0, q);
    to = qWhere(p, s, k);
  }
  const focusField = focusedField();
  changed({ render: true });
  focusWhere(`${to}.${focusField || "text"}`);
  say(t("ds_moved").replace("{w}", to.replace(/.*questions\[(\d+)\]$/, (m, n) => String(Number(n) + 1))));
}

function moveSection(p, s, delta) {
  const pages = DS.draft.pages;
  const list = pages[p].sections;
  const [sec] = list.splice(s, 1);
  let to;
  if (s + delta >= 0 && s + delta <= list.length && !(delta > 0 && s === list.length)) { list.splice(s + delta, 0, sec); to = sWhere(p, s + delta); } else if (pages[p + delta]) {
    const other = pages[p + delta].sections;
    if (delta < 0) { other.push(sec); to = sWhere(p - 1, other.length - 1); } else { other.unshift(sec); to = sWhere(p + 1, 0); }
  } else { list.splice(s, 0, sec); to = sWhere(p, s); }
  changed({ render: true });
  focusWhere(`${to}.title`);
}

function focusedField() {
  const w = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.where : "";
  const m = /questions\[\d+\]\.(\w+)$/.exec(w || "");
  return m ? m[1] : null;
}

function dropTarget(node, type, p, s, k) {
  node.addEventListener("dragover", (ev) => {
    const d = DS.drag;
    if (!d) return;
    if ((d.type === "q" && (type === "q" || type === "q-end")) || (d.type === "s" && type === "s")) {
      ev.preventDefault();
      ev.stopPropagation();
      node.classList.add("drop-over");
    }
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop-over"));
  node.addEventListener("drop", (ev) => {
    const d = DS.drag;
    node.classList.remove("drop-over");
    if (!d) return;
    if (d.type === "q" && (type === "q" || type === "q-end")) {
      ev.preventDefault();
      ev.stopPropagation();
      const r = node.getBoundingClientRect();
      const after = type === "q" && ev.clientY > r.top + r.height / 2;
      const src = DS.draft.pages[d.p].sections[d.s].questions;
      const dst = DS.draft.pages[p].sections[s].questions;
      const item = src[d.q];
      let at = type === "q-end" ? dst.length : k + (after ? 1 : 0);
      src.splice(d.q, 1);
      if (src === dst && d.q < at) at -= 1;
      dst.splice(at, 0, item);
      DS.drag = null;
      changed({ render: true });
      focusWhere(`${qWhere(p, s, at)}.text`);
    } else if (d.type === "s" && type === "s") {
      ev.preventDefault();
      const r = node.getBoundingClientRect();
      const after = ev.clientY > r.top + r.height / 2;
      const src = DS.draft.pages[d.p].sections;
      const dst = DS.draft.pages[p].sections;
      const item = src[d.s];
      let at = s + (after ? 1 : 0);
      src.splice(d.s, 1);
      if (src === dst && d.s < at) at -= 1;
      dst.splice(at, 0, item);
      DS.drag = null;
      changed({ render: true });
      focusWhere(`${sWhere(p, at)}.title`);
    }
  });
}

function focusWhere(where, scroll = true) {
  const el = document.querySelector(`[data-where="${CSS.escape(where)}"]`);
  if (el) { el.focus({ preventScroll: !scroll }); if (scroll) el.scrollIntoView({ block: "nearest" }); }
  return el;
}

// ------------------------------------------------------------------ the index definition and respondent groups
function renderIndices() {
  const panel = $d("panel-indices");
  const d = DS.draft;
  if (!d) return;
  const act = panel.contains(document.activeElement) ? document.activeElement : null;
  const fk = act ? (act.dataset.key || act.dataset.where || act.id) : null;
  const ix = d.indices;
  const singles = allQuestions().filter((x) => x.single);
  const sv = h("input", { type: "text", size: "8", value: (ix.satisfied_values || []).join(", "), id: "ds-satisfied" });
  sv.addEventListener("input", () => { ix.satisfied_values = sv.value.split(/[,;\s]+/).filter(Boolean).map(Number); changed(); });
  const lo = h("input", { type: "number", class: "num", value: String((ix.scale || [1, 5])[0]) });
  const hi = h("input", { type: "number", class: "num", value: String((ix.scale || [1, 5])[1]) });
  const setScale = () => { ix.scale = [Number(lo.value), Number(hi.value)]; changed(); };
  lo.addEventListener("input", setScale);
  hi.addEventListener("input", setScale);
  const els = h("div", { class: "ds-elements" });
  ix.elements.forEach((e, i) => {
    const where = `indices.elements[${i}]`;
    const box = h("fieldset", { class: "ds-element", "data-slot": where }, h("legend", {}, `${t("ds_element_n")} ${i + 1}`));
    const crit = h("div", { class: "ds-crit", role: "group", "aria-label": `${t("ds_criteria")} · ${e.id}`, "data-slot": `${where}.criteria` });
    for (const x of singles) {
      const cb = h("input", { type: "checkbox", value: x.q.id, "data-key": `crit-${i}-${x.q.id}` });
      cb.checked = e.criteria.includes(x.q.id);
      cb.addEventListener("change", () => {
        if (cb.checked) { for (const o of ix.elements) o.criteria = o.criteria.filter((c) => c !== x.q.id); e.criteria.push(x.q.id); } else e.criteria = e.criteria.filter((c) => c !== x.q.id);
        changed({ render: true, side: true });
      });
      crit.append(h("label", { class: "ds-cb" }, cb, ` ${x.q.number ? x.q.number + ". " : ""}${(x.q.text || x.q.id).slice(0, 60)}`, h("span", { class: "muted" }, ` (${x.q.id})`)));
    }
    if (!singles.length) crit.append(h("p", { class: "muted" }, t("ds_no_singles")));
    crit.append(h("span", { class: "fp" }));
    box.append(h("div", { class: "ds-row" },
      textInput(e, "id", `${where}.id`, "ds_el_id", { size: "5", spellcheck: "false" }, () => renderEditor()),
      textInput(e, "name", `${where}.name`, "ds_el_name", { size: "28" }, () => renderEditor())),
      h("p", { class: "ds-sub" }, t("ds_criteria")), crit,
      h("button", { type: "button", onclick: () => { ix.elements.splice(i, 1); changed({ render: true, side: true }); } }, `${t("ds_delete")}: ${e.id || t("ds_element_n") + " " + (i + 1)}`),
      h("span", { class: "fp" }));
    els.append(box);
  });
  const groups = h("div", { class: "ds-crit", role: "group", "aria-label": t("ds_groups"), "data-slot": "respondent_groups" });
  for (const x of allQuestions().filter((y) => !y.grid && ["single", "multiple"].includes(y.q.kind || "single"))) {
    const cb = h("input", { type: "checkbox", value: x.q.id, "data-key": `grp-${x.q.id}` });
    cb.checked = d.respondent_groups.includes(x.q.id);
    cb.addEventListener("change", () => {
      d.respondent_groups = cb.checked ? [...d.respondent_groups, x.q.id] : d.respondent_groups.filter((c) => c !== x.q.id);
      changed();
    });
    groups.append(h("label", { class: "ds-cb" }, cb, ` ${(x.q.text || x.q.id).slice(0, 60)}`, h("span", { class: "muted" }, ` (${x.q.id})`)));
  }
  groups.append(h("span", { class: "fp" }));
  panel.replaceChildren(
    h("h2", {}, t("ds_indices")),
    h("div", { class: "ds-row", "data-slot": "indices" },
      field("ds_satisfied", "indices.satisfied_values", sv),
      h("label", { class: "ds-field", "data-slot": "indices.scale" }, h("span", {}, t("ds_scale")), lo, " – ", hi, h("span", { class: "fp" }))),
    els,
    h("button", { type: "button", id: "ds-add-element", onclick: () => {
      let n = ix.elements.length + 1;
      while (ix.elements.some((e) => e.id === `E${n}`)) n += 1;
      ix.elements.push({ id: `E${n}`, name: "", criteria: [] });
      changed({ render: true, side: true });
      focusWhere(`indices.elements[${ix.elements.length - 1}].name`);
    } }, t("ds_add_element")),
    h("h2", { class: "spaced" }, t("ds_groups")), groups);
  lo.dataset.where = "indices.scale";
  showProblems();
  if (fk) {
    const back = panel.querySelector(`[data-key="${CSS.escape(fk)}"]`) || panel.querySelector(`[data-where="${CSS.escape(fk)}"]`) || (act.id && $d(act.id));
    if (back && back !== act) back.focus({ preventScroll: true });
  }
}

// ------------------------------------------------------------------ check and preview
function schedule() {
  clearTimeout(DS.timer);
  DS.timer = setTimeout(refresh, DEBOUNCE_MS);
}

async function postRaw(path, body, signal) {
  return fetch(path, { method: "POST", credentials: "same-origin", signal,
    headers: { "Content-Type": "application/json", Accept: "application/json, image/png", "X-CSRF-Token": API.csrf || "" },
    body: JSON.stringify(body) });
}

// One refresh: the check and the preview of the page shown, both for the same draft; a newer refresh
// aborts this one, and an answer that arrives late is never shown.
async function refresh() {
  const seq = ++DS.seq;
  const t0 = performance.now();
  if (DS.ctrl) DS.ctrl.abort();
  const ctrl = new AbortController();
  DS.ctrl = ctrl;
  const body = { template: cleanDraft(DS.draft) };
  $d("ds-preview-wrap").setAttribute("aria-busy", "true");
  // the preview first (what the person looks at), then the check (problems and page count) of the same draft
  const preview = postRaw(`/api/templates/preview?page=${DS.page}`, body, ctrl.signal);
  try {
    const r = await preview;
    if (seq !== DS.seq) return;
    if (r.ok) {
      const blob = await r.blob();
      if (seq !== DS.seq) return;
      const img = $d("ds-preview");
      const old = img.src;
      img.src = URL.createObjectURL(blob);
      img.decode().then(() => { if (seq === DS.seq) DS.shown = { seq, ms: performance.now() - t0, at: performance.now() }; }).catch(() => {});
      img.hidden = false;
      img.classList.remove("stale");
      img.alt = `${t("ds_preview_alt")} ${DS.page}`;
      if (old && old.startsWith("blob:")) URL.revokeObjectURL(old);
      $d("ds-preview-note").textContent = "";
    }
    const c = await (await postRaw("/api/templates/check", body, ctrl.signal)).json();
    if (seq !== DS.seq) return;
    DS.problems = Array.isArray(c.problems) ? c.problems : [];
    DS.pages = c.pages || null;
    const beyond = !r.ok && DS.pages && DS.page > DS.pages;  // the page shown went away: show the last one
    showProblems();
    renderPages();
    if (!r.ok) {
      $d("ds-preview").classList.add("stale");
      $d("ds-preview-note").textContent = beyond ? t("ds_no_page") : t("ds_preview_bad");
      if (beyond) schedule();
    }
  } catch (e) {
    if (e.name === "AbortError") return;
    $d("ds-preview-note").textContent = apiErrorText(e instanceof ApiError ? e : new ApiError(0, {}));
  } finally {
    if (seq === DS.seq) $d("ds-preview-wrap").setAttribute("aria-busy", "false");
  }
}

function renderPages() {
  const box = $d("ds-pages");
  const n = DS.pages || Math.max(1, DS.draft.pages.length);
  if (DS.page > n) DS.page = n;
  box.replaceChildren(...Array.from({ length: n }, (_, i) => h("button", { type: "button", "aria-pressed": String(DS.page === i + 1),
    onclick: () => { DS.page = i + 1; renderPages(); refresh(); } }, `${t("ds_page")} ${i + 1}`)));
}

// the slot of a where path: the longest prefix some element of the editor carries
function slotFor(where) {
  let w = String(where || "");
  while (w) {
    const f = document.querySelector(`[data-where="${CSS.escape(w)}"]`);
    if (f) return { input: f, slot: f.closest("[data-slot]") };
    const s = document.querySelector(`[data-slot="${CSS.escape(w)}"]`);
    if (s) return { input: s.querySelector("[data-where]"), slot: s };
    const cut = w.search(/(\.[^.[\]]+|\[\d+\])$/);
    if (cut <= 0) break;
    w = w.slice(0, cut);
  }
  return null;
}

// The checker's problems (omr/template.py, omr/layout.py, pydantic) in Vietnamese; others pass through.
const PROBLEMS_VI = [
  [/^duplicate question id '(.*)' \(first at (.*)\)$/, "mã câu '{1}' bị trùng (đã dùng ở {2})"],
  [/^does not fit on page (\d+): it ends ([\d.]+) mm below the printable area; move questions to another page or shorten the text$/,
    "không vừa trang {1}: vượt quá vùng in {2} mm; hãy chuyển bớt câu hỏi sang trang khác hoặc rút gọn nội dung"],
  [/^a single-choice question needs options$/, "câu hỏi một lựa chọn cần có các lựa chọn"],
  [/^a multiple-choice question needs options$/, "câu hỏi nhiều lựa chọn cần có các lựa chọn"],
  [/^unknown option set '(.*)' \(known: (.*)\)$/, "không có bộ lựa chọn '{1}' (các bộ đã có: {2})"],
  [/^duplicate option value\(s\) (.*)$/, "giá trị lựa chọn bị trùng: {1}"],
  [/^questions in a grid section are single choice$/, "câu hỏi trong phần dạng bảng chỉ là một lựa chọn"],
  [/^questions in a grid section take the grid's options$/, "câu hỏi trong phần dạng bảng dùng thang chung của phần"],
  [/^criterion '(.*)' is not a question of this template$/, "tiêu chí '{1}' không phải câu hỏi của phiếu này"],
  [/^criterion '(.*)' is a (\w+) question; criteria must be single choice$/, "tiêu chí '{1}' không phải câu hỏi một lựa chọn"],
  [/^criterion '(.*)' has no option\(s\) (.*) named in indices.satisfied_values$/, "tiêu chí '{1}' không có lựa chọn {2} được tính là hài lòng"],
  [/^criterion '(.*)' is already in element (.*)$/, "tiêu chí '{1}' đã thuộc yếu tố {2}"],
  [/^'(.*)' is not a question of this template$/, "'{1}' không phải câu hỏi của phiếu này"],
  [/^'(.*)' must be a single-choice question$/, "'{1}' phải là câu hỏi một lựa chọn"],
  [/^scale (.*) is empty$/, "thang điểm {1} không hợp lệ"],
  [/^String should match pattern '\^\[a-z0-9-\]\+\$'$/, "chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang (a-z, 0-9, -)"],
  [/^String should match pattern '\^\[a-z0-9_\]\+\$'$/, "chỉ dùng chữ thường không dấu, chữ số và dấu gạch dưới (a-z, 0-9, _)"],
  [/^String should have at least 1 character$/, "chưa nhập nội dung"],
  [/^Field required$/, "còn thiếu"],
  [/^List should have at least (\d+) items? after validation, not 0$/, "cần ít nhất {1} mục"],
  [/^List should have at least (\d+) items? after validation, not (\d+)$/, "cần ít nhất {1} mục (mới có {2})"],
  [/^Input should be less than or equal to (\d+)$/, "tối đa là {1}"],
  [/^Input should be greater than or equal to (\d+)$/, "tối thiểu là {1}"],
  [/^Input should be a valid integer.*$/, "phải là số nguyên"],
];

function problemText(p) {
  const raw = String(p.problem || "");
  if (LANG === "vi") {
    for (const [re, vi] of PROBLEMS_VI) {
      const m = re.exec(raw);
      if (m) return vi.replace(/\{(\d)\}/g, (_, i) => m[Number(i)]).replace(WHERE_RE, (w) => whereText(w));
    }
  }
  return (apiDetailText(raw) || raw).replace(WHERE_RE, (w) => whereText(w));
}

// A where path as the reader sees the form: "pages[0].sections[1].questions[2].options" → "Trang 1 · Phần 2 · Câu 3 · Các lựa chọn"
const WHERE_RE = /pages\[\d+\](\.sections\[\d+\](\.questions\[\d+\])?)?(\.[a-z_]+)?/g;
const WHERE_FIELDS = { title: "ds_s_title", note: "ds_note", grid: "ds_grid", id: "ds_qid", text: "ds_q_text", kind: "ds_kind", options: "ds_options",
  columns: "ds_columns", digits: "ds_digits", lines: "ds_lines", number: "ds_number", criteria: "ds_criteria", name: "ds_el_name" };
const WHERE_TOP = { id: "ds_id", title: "ds_f_title", subtitle: "ds_subtitle", issuer: "ds_issuer", issuer_sub: "ds_issuer_sub", intro: "ds_intro",
  instructions: "ds_instructions", closing: "ds_closing", respondent_groups: "ds_groups", "indices.satisfied_values": "ds_satisfied", "indices.scale": "ds_scale" };
function whereText(w) {
  const top = String(w).replace(/\[\d+\]$/, "");
  if (WHERE_TOP[top]) return t(WHERE_TOP[top]);
  if (top.startsWith("option_sets.")) return `${t("ds_option_sets")}: ${top.slice(12)}`;
  const parts = [];
  let m;
  if ((m = /pages\[(\d+)\]/.exec(w))) parts.push(`${t("ds_page")} ${Number(m[1]) + 1}`);
  if ((m = /sections\[(\d+)\]/.exec(w))) parts.push(`${t("ds_section")} ${Number(m[1]) + 1}`);
  if ((m = /questions\[(\d+)\]/.exec(w))) parts.push(`${t("ds_question")} ${Number(m[1]) + 1}`);
  if ((m = /elements\[(\d+)\]/.exec(w))) parts.push(`${t("ds_element_n")} ${Number(m[1]) + 1}`);
  const f = /\.([a-z_]+)(\[\d+\])?$/.exec(w);
  if (f && WHERE_FIELDS[f[1]] && parts.length) parts.push(t(WHERE_FIELDS[f[1]]));
  return parts.length ? parts.join(" · ") : w;
}

function showProblems() {
  for (const fp of document.querySelectorAll(".fp")) { fp.textContent = ""; }
  for (const el of document.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of document.querySelectorAll(".has-problem")) el.classList.remove("has-problem");
  const list = $d("ds-problems");
  list.replaceChildren();
  for (const p of DS.problems) {
    const at = slotFor(p.where);
    if (at && at.slot) {
      const fp = at.slot.querySelector(":scope > .fp") || at.slot.querySelector(".fp");
      if (fp) fp.textContent = (fp.textContent ? fp.textContent + " · " : "") + problemText(p);
      at.slot.classList.add("has-problem");
      if (at.input) at.input.setAttribute("aria-invalid", "true");
    }
    const where = p.where || "";
    list.append(h("li", { class: "err", title: LANG === "vi" ? String(p.problem || "") : null }, h("button", { type: "button", class: "ds-link", title: where, onclick: () => goToProblem(p) }, where ? whereText(where) : t("ds_whole")), `: ${problemText(p)}`));
  }
  const line = $d("ds-check-line");
  if (!DS.draft) return;
  if (DS.problems.length) { line.textContent = t("ds_problems_n").replace("{n}", String(DS.problems.length)); line.className = "ds-check-line bad"; } else {
    line.textContent = DS.pages ? t("ds_ok_pages").replace("{n}", String(DS.pages)) : t("ds_checking");
    line.className = "ds-check-line ok";
  }
}

function goToProblem(p) {
  const w = String(p.where || "");
  if (w.startsWith("indices") || w.startsWith("respondent_groups")) showTab("indices");
  const at = slotFor(w);
  if (at && at.input) { at.input.focus(); at.input.scrollIntoView({ block: "center" }); } else if (at && at.slot) at.slot.scrollIntoView({ block: "center" });
}

// ------------------------------------------------------------------ tabs, messages
function showTab(name) {
  DS.tab = name;
  for (const n of ["preview", "indices", "versions"]) {
    const on = n === name;
    $d(`tab-${n}`).setAttribute("aria-selected", String(on));
    $d(`tab-${n}`).tabIndex = on ? 0 : -1;
    $d(`panel-${n}`).hidden = !on;
  }
  if (name === "indices") renderIndices();
  if (name === "versions") renderVersions().catch((e) => say(apiErrorText(e), true));
}

function say(text, bad) { const m = $d("ds-msg"); m.textContent = text; m.className = `ds-msg ${bad ? "error" : "muted"}`; }

// ------------------------------------------------------------------ open, new, import, save, export
async function loadTemplates() {
  DS.templates = await api("GET", "/api/templates");
  const sel = $d("ds-open-id");
  const keep = sel.value;
  sel.replaceChildren(...DS.templates.map((x) => h("option", { value: x.id }, `${x.id}${x.title ? " · " + x.title : ""}${x.origin === "office" ? "" : " " + t("ds_shipped_mark")}`)));
  if (keep && DS.templates.some((x) => x.id === keep)) sel.value = keep;
  fillVersions();
}

function fillVersions() {
  const tpl = DS.templates.find((x) => x.id === $d("ds-open-id").value);
  const vs = tpl ? (tpl.versions || [tpl.version]) : [];
  $d("ds-open-version").replaceChildren(...vs.slice().reverse().map((v) => h("option", { value: String(v) }, `v${v}`)));
}

function setDraft(tpl, opened) {
  DS.draft = normalise(tpl);
  DS.opened = opened;
  DS.problems = [];
  DS.pages = null;
  DS.page = 1;
  renderEditor();
  renderIndices();
  renderPages();
  if (DS.tab === "versions") renderVersions().catch(() => {});
  refresh();
}

async function openTemplate(id, version) {
  try {
    const r = await api("GET", `/api/templates/${encodeURIComponent(id)}/${encodeURIComponent(version)}`);
    setDraft(r.template, { id: r.id, version: r.version, frozen: r.frozen, origin: r.origin });
    $d("ds-open-id").value = r.id;
    fillVersions();
    $d("ds-open-version").value = String(r.version);
    say(t(r.frozen ? "ds_opened_frozen" : "ds_opened").replace("{id}", r.id).replace("{v}", String(r.version)));
  } catch (e) { say(apiErrorText(e), true); }
}

async function importFile() {
  const f = $d("ds-import-file").files[0];
  if (!f) { say(t("ds_pick_file"), true); $d("ds-import-file").focus(); return; }
  const fd = new FormData();
  fd.append("file", f);
  let r;
  try {
    r = await fetch("/api/templates/import", { method: "POST", body: fd, credentials: "same-origin", headers: { Accept: "application/json", "X-CSRF-Token": API.csrf || "" } });
  } catch (e) { say(t("network"), true); return; }
  const data = await r.json().catch(() => null);
  if (!r.ok || !data || !data.template) {
    say(`${f.name}: ${apiErrorText(new ApiError(r.status, data))}`, true);
    if (data && Array.isArray(data.problems)) { DS.problems = data.problems; showProblems(); }
    return;
  }
  setDraft(data.template, null);
  if (Array.isArray(data.problems) && data.problems.length) { DS.problems = data.problems; showProblems(); }
  say(t("ds_imported").replace("{f}", f.name).replace("{n}", String(allQuestions().length)));
}

async function save() {
  clearTimeout(DS.timer);
  say(t("loading"));
  try {
    const r = await api("POST", "/api/templates", { template: cleanDraft(DS.draft) });
    DS.opened = { id: r.id, version: r.version, frozen: false, origin: r.origin };
    DS.draft.id = r.id;
    say(t(r.new_version ? (r.version === 1 ? "ds_saved_first" : "ds_saved_new") : "ds_saved_same").replace("{id}", r.id).replace("{v}", String(r.version)));
    await loadTemplates();
    $d("ds-open-id").value = r.id;
    fillVersions();
    $d("ds-open-version").value = String(r.version);
    if (DS.tab === "versions") await renderVersions();
  } catch (e) {
    if (e instanceof ApiError && Array.isArray(e.data.problems)) { DS.problems = e.data.problems; showProblems(); say(t("ds_not_saved").replace("{n}", String(DS.problems.length)), true); } else say(apiErrorText(e), true);
  }
}

async function exportYaml() {
  let c;
  try {
    const r = await postRaw("/api/templates/check", { template: cleanDraft(DS.draft) });
    c = await r.json();
    if (!r.ok) throw new ApiError(r.status, c);
  } catch (e) { say(apiErrorText(e instanceof ApiError ? e : new ApiError(0, {})), true); return; }
  if (!c.ok || !c.yaml) { DS.problems = c.problems || []; showProblems(); say(t("ds_export_bad"), true); return; }
  const a = h("a", { href: URL.createObjectURL(new Blob([c.yaml], { type: "application/x-yaml" })), download: `${DS.draft.id || "mau-phieu"}.yaml` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  say(t("ds_exported").replace("{f}", a.download));
}

// ------------------------------------------------------------------ versions and their comparison
async function renderVersions() {
  const panel = $d("panel-versions");
  const id = DS.draft && DS.draft.id;
  const tpl = DS.templates.find((x) => x.id === id);
  if (!tpl) { panel.replaceChildren(h("h2", {}, t("ds_versions")), h("p", { class: "muted" }, t("ds_no_versions"))); return; }
  const vs = tpl.versions || [tpl.version];
  const opt = (v) => h("option", { value: String(v) }, `v${v}`);
  const from = h("select", { id: "ds-cmp-from" }, ...vs.map(opt));
  const to = h("select", { id: "ds-cmp-to" }, ...vs.map(opt));
  from.value = String(vs.length > 1 ? vs[vs.length - 2] : vs[0]);
  to.value = String(vs[vs.length - 1]);
  const out = h("div", { id: "ds-cmp-out", "aria-live": "polite" });
  const table = h("table", { class: "data" }, h("thead", {}, h("tr", {}, h("th", {}, t("ds_version")), h("th", {}, ""))),
    h("tbody", {}, ...vs.slice().reverse().map((v) => h("tr", {}, h("td", {}, `v${v}${v === tpl.version ? " " + t("ds_latest") : ""}${tpl.frozen && v === tpl.version ? " · " + t("ds_frozen") : ""}`),
      h("td", {}, h("button", { type: "button", "aria-label": `${t("ds_open")} ${id} v${v}`, onclick: () => openTemplate(id, v) }, t("ds_open")),
        " ", h("a", { href: `/api/templates/${encodeURIComponent(id)}/${v}/pdf?sheets=1`, download: `${id}-v${v}.pdf` }, t("ds_trial_pdf")))))));
  panel.replaceChildren(h("h2", {}, `${t("ds_versions")} · ${id}`), table,
    h("h2", { class: "spaced" }, t("ds_compare")),
    h("div", { class: "inline-form" }, h("label", {}, h("span", {}, t("ds_from")), from), h("label", {}, h("span", {}, t("ds_to")), to),
      h("button", { type: "button", id: "ds-cmp-go", onclick: () => compare(id, from.value, to.value, out) }, t("ds_compare_btn"))), out);
}

async function compare(id, from, to, out) {
  try {
    const c = await api("GET", `/api/templates/${encodeURIComponent(id)}/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    const rows = [];
    for (const x of c.added || []) rows.push(h("li", { class: "cmp-add" }, `+ ${x.id}: ${x.text || ""}`));
    for (const x of c.removed || []) rows.push(h("li", { class: "cmp-del" }, `− ${x.id}: ${x.text || ""}`));
    for (const x of c.changed || []) {
      const parts = (x.fields || []).map((f) => `${f}: «${short(x.before && x.before[f])}» → «${short(x.after && x.after[f])}»`);
      rows.push(h("li", { class: "cmp-chg" }, `~ ${x.id}: ${parts.join("; ")}`));
    }
    if (c.indices_changed) rows.push(h("li", { class: "cmp-chg" }, t("ds_indices_changed")));
    out.replaceChildren(h("p", {}, t("ds_cmp_head").replace("{a}", String(c.from)).replace("{b}", String(c.to))
      .replace("{n}", String((c.added || []).length)).replace("{r}", String((c.removed || []).length)).replace("{c}", String((c.changed || []).length))),
    rows.length ? h("ul", { class: "ds-cmp" }, ...rows) : h("p", { class: "muted" }, t("ds_same")));
  } catch (e) { out.replaceChildren(h("p", { class: "error" }, apiErrorText(e))); }
}

function short(v) {
  if (v === undefined || v === null) return "";
  const s = typeof v === "string" ? v : Array.isArray(v) ? v.map((o) => (o && typeof o === "object" ? `${o.value}=${o.label}` : String(o))).join("; ") : JSON.stringify(v);
  return s.length > 80 ? s.slice(0, 79) + "…" : s;
}

// ------------------------------------------------------------------ start
officePage(["admin"], async (me, onLang) => {
  const [sets] = await Promise.all([api("GET", "/api/templates/option-sets").catch(() => ({})), loadTemplates()]);
  DS.shared = sets || {};
  $d("ds-open-id").addEventListener("change", fillVersions);
  $d("ds-open").addEventListener("click", () => openTemplate($d("ds-open-id").value, $d("ds-open-version").value));
  $d("ds-new").addEventListener("click", () => { setDraft(emptyDraft(), null); say(t("ds_new_started")); focusWhere("id"); });
  $d("ds-import").addEventListener("click", importFile);
  $d("ds-save").addEventListener("click", save);
  $d("ds-export").addEventListener("click", exportYaml);
  $d("ds-zoom").addEventListener("click", () => {
    const on = $d("ds-preview-wrap").classList.toggle("zoomed");
    $d("ds-zoom").setAttribute("aria-pressed", String(on));
  });
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s") { ev.preventDefault(); save(); }
  });
  const tabs = ["preview", "indices", "versions"];
  for (const n of tabs) {
    const b = $d(`tab-${n}`);
    b.addEventListener("click", () => showTab(n));
    b.addEventListener("keydown", (ev) => {
      if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
      const i = (tabs.indexOf(n) + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
      showTab(tabs[i]);
      $d(`tab-${tabs[i]}`).focus();
    });
  }
  onLang(() => { renderEditor(); renderIndices(); renderPages(); showProblems(); if (DS.tab === "versions") renderVersions().catch(() => {}); });
  const q = new URLSearchParams(location.search);
  const asked = DS.templates.find((x) => x.id === q.get("template"));
  if (asked) await openTemplate(asked.id, q.get("version") || asked.version);
  else setDraft(emptyDraft(), null);
});
