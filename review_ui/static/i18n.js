// Interface strings: Vietnamese first, English available. The HTML carries the Vietnamese text;
// data-t keys name the string for switching languages.
"use strict";
const STRINGS = {
  en: {
    title: "Questionnaire review", logout: "Log out", login: "Log in", name: "User name", token: "Access token",
    choose: "Choose a survey round or a batch", round: "Round", batch: "Batch", allbatches: "All batches", order: "Order",
    worstfirst: "Lowest confidence first", pageorder: "Page order", start: "Start reviewing", wholepage: "Whole page",
    form: "Form", pageno: "Page", sheet: "Sheet no.", place: "Confirm form (Enter)", notform: "Not a questionnaire (N)",
    keepthis: "Keep this page (1)", keepother: "Keep the earlier page (2)", keepboth: "Two different sheets (3)",
    accept: "Accept suggestion (Enter)", blank: "Blank (0)", undo: "Undo (U)",
    alldone: "All done. Nothing left to review.", keys: "Keyboard", k_digit: "choose an option (multiple choice: toggle, Enter saves)",
    k_blank: "leave blank", k_enter: "accept the suggestion / save", k_move: "previous / next item", k_undo: "undo the last decision",
    k_n: "page is not a questionnaire", k_help: "show/hide this table",
    suggestion: "Engine's reading", none: "(blank)", left: "left", done_today: "done today", item: "Item",
    claimed: "Being reviewed by", changed: "The answer was changed meanwhile; current value",
    reasons: {"two marks": "two marks", "faint mark": "faint mark", "mark around the box": "mark around the box",
      "correction": "correction", "free text": "free text", "unrecognized page": "page not recognised",
      "duplicate sheet": "sheet scanned twice", "page of another form": "page of another form", "low contrast": "low contrast",
      "identity read by OCR": "sheet number read by OCR", "thin stroke": "thin stroke"},
  },
  vi: {
    suggestion: "Máy đọc được", none: "(để trống)", left: "còn lại", done_today: "đã duyệt hôm nay", item: "Mục",
    claimed: "Đang được duyệt bởi", changed: "Câu trả lời đã bị người khác sửa; giá trị hiện tại",
    reasons: {"two marks": "hai dấu", "faint mark": "dấu mờ", "mark around the box": "khoanh quanh ô",
      "correction": "có sửa chữa", "free text": "ý kiến viết tay", "unrecognized page": "không nhận dạng được trang",
      "duplicate sheet": "phiếu quét hai lần", "page of another form": "trang của mẫu phiếu khác", "low contrast": "dấu nhạt",
      "identity read by OCR": "số phiếu đọc bằng OCR", "thin stroke": "nét mảnh"},
  },
};
let LANG = localStorage.getItem("omr-lang") || "vi";
const VI_TEXT = new Map();

function t(key) {
  const table = STRINGS[LANG] || {};
  if (key in table) return table[key];
  return (STRINGS.vi[key] !== undefined) ? STRINGS.vi[key] : (VI_TEXT.get(key) || key);
}

function reasonText(r) {
  if (!r) return "";
  const table = (STRINGS[LANG] || STRINGS.vi).reasons || {};
  const base = r.replace(/ \(.*\)$/, "");
  return table[r] || table[base] || r;
}

function applyLang() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll("[data-t]")) {
    const key = el.dataset.t;
    if (!VI_TEXT.has(key)) VI_TEXT.set(key, el.textContent);
    el.textContent = LANG === "vi" ? VI_TEXT.get(key) : (STRINGS.en[key] || VI_TEXT.get(key));
  }
  const b = document.getElementById("lang");
  if (b) b.textContent = LANG === "vi" ? "English" : "Tiếng Việt";
}
