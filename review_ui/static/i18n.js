// Interface strings: Vietnamese first, English available through the language button.
// Static HTML carries the Vietnamese text and a data-t key; dynamic strings come from STRINGS.
// Everything here is inserted with textContent, never as HTML.
"use strict";
const STRINGS = {
  vi: {
    accept: "Chấp nhận gợi ý (Enter)", save: "Lưu (Enter)",
    stored: "Giá trị đã lưu", suggestion: "Máy đọc được", none: "(để trống)", left: "Còn lại", done: "Đã duyệt", done_today: "hôm nay", item: "Mục",
    total: "Tổng", reviewer: "Người duyệt", nobody: "Chưa có ai duyệt mục nào.",
    claimed: "Mục này đang được người khác duyệt", claimed_hint: "Nhấn J để bỏ qua và sang mục khác.",
    changed: "Câu trả lời đã bị người khác sửa trong lúc bạn xem. Giá trị hiện tại",
    changed_hint: "Kiểm tra lại rồi quyết định lần nữa.",
    decided_by: "Đã quyết định bởi", correction_note: "Sửa một câu trả lời đã duyệt: máy chủ kiểm tra giá trị cũ trước khi ghi.",
    history: "Lịch sử", live: "Hàng đợi",
    readonly: "Tài khoản này chỉ được xem, không được duyệt hay sửa câu trả lời.",
    forbidden: "Bạn không có quyền thực hiện thao tác này.",
    page_undo: "Quyết định về trang không hoàn tác được; hãy quyết định lại trang này.",
    nothing_undo: "Không có quyết định nào để hoàn tác.",
    skipped: "Đã bỏ qua", network: "Lỗi kết nối máy chủ", bad_login: "Sai tên người dùng hoặc mã truy cập.",
    page_no_image: "Trang này không có ảnh.", page_items: "trang", sheet: "Số phiếu", pageno: "Trang", loading: "Đang tải…",
    ocr: "Gợi ý OCR (tesseract)", no_ocr: "(OCR không đọc được)", code_hint: "chữ số",
    // page view
    page_title: "Trang", of_file: "trang {n} của tệp", alignment: "căn chỉnh", no_audit: "Chưa có thay đổi nào.",
    status_names: {
      answered: "có trả lời", blank: "để trống", uncertain: "chưa chắc chắn", multiple: "nhiều dấu", ok: "đã đọc",
      unrecognized: "không nhận dạng được", rejected: "không phải phiếu", error: "lỗi", duplicate: "trùng phiếu",
      queued: "đang chờ", processing: "đang xử lý", done: "xong", pending: "chờ duyệt",
    },
    source_names: { engine: "máy đọc", reviewer: "người duyệt", ocr: "OCR" },
    actions: {
      review: "duyệt", correct: "sửa", undo: "hoàn tác", "reject page": "không phải phiếu",
      "settle duplicate": "xử lý trùng phiếu", "place page": "xác định mẫu phiếu",
      "retry page": "đọc lại trang", "manual entry": "nhập tay từ ảnh",
    },
    // Exact reasons and page errors (English from omr/ and service/); patterned ones: REASON_PATTERNS_VI below.
    reasons: {
      // a field's reason (omr/decide.py, omr/text_fields.py, service/)
      "two marks": "hai ô được đánh dấu", "several filled boxes": "nhiều ô được tô kín", "faint mark": "dấu mờ",
      "mark around the box": "khoanh quanh ô", "thin stroke": "nét đánh dấu quá mảnh", "correction": "sửa lại (tô kín ô cũ)",
      "low contrast": "dấu nhạt, khó phân biệt", "digit missing": "thiếu chữ số", "free text": "ý kiến viết tay",
      "multiple": "nhiều dấu", "uncertain": "chưa chắc chắn", "unreadable": "không đọc được",
      "read twice, readings differ": "đọc hai lần, kết quả khác nhau", "page misaligned": "trang bị lệch",
      // a page's reason (service/worker.py)
      "unrecognized page": "không nhận dạng được trang", "duplicate sheet": "phiếu quét hai lần",
      "page could not be read": "không đọc được trang",
      "page of another form": "trang của mẫu phiếu khác", "identity read by OCR": "số phiếu đọc bằng OCR",
      // a page's error (omr/pipeline.py, omr/io.py, service/worker.py)
      "blank page: no content": "trang trắng: không có nội dung",
      "registration markers found but the QR code and the printed serial are unreadable":
        "tìm thấy dấu định vị nhưng không đọc được mã QR và số phiếu in trên trang",
      "the page crashed the reader repeatedly": "trang này nhiều lần làm chương trình đọc phiếu bị dừng",
      "the page could not be read after repeated attempts": "không đọc được trang sau nhiều lần thử",
      "file is empty (0 bytes)": "tệp rỗng (0 byte)", "image has no pixels": "ảnh không có điểm ảnh nào",
      "PDF has no pages": "tệp PDF không có trang nào",
      "PDF is encrypted with a password; export it without protection": "tệp PDF có đặt mật khẩu; hãy xuất lại tệp không đặt mật khẩu",
      "poppler (pdftoppm) is not installed: apt-get install poppler-utils": "chưa cài poppler (pdftoppm): apt-get install poppler-utils",
      "poppler rendered nothing": "poppler không tạo ra ảnh nào",
    },
  },
  en: {
    title: "Questionnaire review", logout: "Log out", login: "Log in", name: "User name", token: "Access token",
    choose: "Choose a survey round or a batch", round: "Survey round", batch: "Batch", allbatches: "All batches", order: "Order",
    worstfirst: "Lowest confidence first", pageorder: "Page order", start: "Start reviewing (Enter)", wholepage: "Whole page",
    form: "Form", place: "Confirm form (Enter)", notform: "Not a questionnaire (N)",
    keepthis: "Keep this page (1)", keepother: "Keep the earlier page (2)", keepboth: "Two different sheets (3)",
    accept: "Accept suggestion (Enter)", save: "Save (Enter)", blank: "Blank (0)", undo: "Undo (U)", prev: "Previous (K)", next: "Skip / next (J)",
    alldone: "All done. Nothing left to review in this queue.", back_choose: "Choose another queue",
    keys: "Keyboard shortcuts", k_digit: "choose an option (multiple choice: toggle, then Enter saves)",
    k_blank: "mark as blank", k_enter: "accept the suggestion / save what is chosen or typed", k_move: "previous decision / skip or next",
    k_undo: "undo the last decision", k_n: "page is not a questionnaire", k_esc: "leave the text box so the keys work again (Enter: back into it)",
    k_help: "show / hide this table", close: "Close (Esc)", progress_h: "Progress", fields_h: "Answers", audit_h: "Audit log",
    col_q: "Question", col_v: "Value", col_s: "Status", col_src: "Source", col_conf: "Confidence",
    col_at: "When", col_user: "User", col_act: "Action", col_change: "Old → new", back_queue: "← Review queue",
    zoom_fit: "Fit", zoom_hint: "Wheel: zoom · drag: move · + − 0 keys",
    stored: "Stored value", suggestion: "Engine's reading", none: "(blank)", left: "Left", done: "Done", done_today: "today", item: "Item",
    total: "Total", reviewer: "Reviewer", nobody: "Nobody has reviewed an item yet.",
    claimed: "This item is being reviewed by someone else", claimed_hint: "Press J to skip it and take another.",
    changed: "The answer was changed by someone else while you looked at it. Current value",
    changed_hint: "Check it and decide again.",
    decided_by: "Decided by", correction_note: "Correcting a decided answer: the server checks the old value before writing.",
    history: "History", live: "Queue",
    readonly: "This account can only view; it cannot review or change answers.",
    forbidden: "You are not allowed to do this.",
    page_undo: "A page decision cannot be undone; decide this page again.",
    nothing_undo: "No decision to undo.",
    skipped: "Skipped", network: "Cannot reach the server", bad_login: "Wrong user name or access token.",
    page_no_image: "This page has no image.", page_items: "page", sheet: "Sheet no.", pageno: "Page", loading: "Loading…",
    ocr: "OCR suggestion (tesseract)", no_ocr: "(OCR read nothing)", code_hint: "digits",
    page_title: "Page", of_file: "page {n} of the file", alignment: "alignment", no_audit: "No changes yet.",
    status_names: {
      answered: "answered", blank: "blank", uncertain: "uncertain", multiple: "several marks", ok: "read",
      unrecognized: "not recognised", rejected: "not a questionnaire", error: "error", duplicate: "duplicate",
      queued: "queued", processing: "processing", done: "done", pending: "pending",
    },
    source_names: { engine: "engine", reviewer: "reviewer", ocr: "OCR" },
    actions: {
      review: "review", correct: "correction", undo: "undo", "reject page": "not a questionnaire",
      "settle duplicate": "duplicate settled", "place page": "form placed",
      "retry page": "page read again", "manual entry": "keyed in from the image",
    },
    reasons: {
      "two marks": "two marks", "faint mark": "faint mark", "mark around the box": "mark around the box",
      "correction": "correction", "free text": "free text", "unrecognized page": "page not recognised", "page could not be read": "page could not be read",
      "duplicate sheet": "sheet scanned twice", "page of another form": "page of another form", "low contrast": "low contrast",
      "identity read by OCR": "sheet number read by OCR", "thin stroke": "thin stroke", "unreadable": "unreadable",
    },
  },
};
let LANG = (() => { try { return localStorage.getItem("omr-lang") || "vi"; } catch (e) { return "vi"; } })();
if (!(LANG in STRINGS)) LANG = "vi";
const VI_TEXT = new Map();

function t(key) {
  const table = STRINGS[LANG];
  if (table[key] !== undefined) return table[key];
  if (STRINGS.vi[key] !== undefined) return STRINGS.vi[key];
  return VI_TEXT.get(key) || key;
}

// Look a server word up in one of the tables (status_names, source_names, actions); unknown words pass through.
function word(table, w) {
  if (w === null || w === undefined) return "";
  const tb = STRINGS[LANG][table] || {};
  const base = String(w).replace(/ \(.*\)$/, "");
  return tb[w] || tb[base] || String(w);
}

// Reasons and errors with numbers, form ids, exception text or a nested reason: [pattern, Vietnamese].
// In the Vietnamese text {1}, {2}… are the pattern's groups as they are; {r1}, {r2}… are translated again
// (a nested reason: "stray mark (faint mark)", "digit 2: two marks", "page 1: image data is damaged …").
const REASON_PATTERNS_VI = [
  [/^stray mark \(([\s\S]+)\)$/, "có dấu thừa ở ô khác ({r1})"],
  [/^filled box and ([\s\S]+)$/, "một ô được tô kín và {r1} ở ô khác"],
  [/^digit (\d+): ([\s\S]+)$/, "chữ số thứ {1}: {r2}"],
  [/^not a known form: no QR code, (\d+) of 4 registration markers$/,
    "không phải mẫu phiếu đã biết: không có mã QR, tìm thấy {1}/4 dấu định vị"],
  [/^registration markers: found (\d+) of 4; the page cannot be placed$/,
    "dấu định vị: chỉ tìm thấy {1}/4, không căn chỉnh được trang"],
  [/^form '([\s\S]*)' is not a known template$/, "mẫu phiếu '{1}' không có trong các mẫu phiếu đã biết"],
  [/^form '([\s\S]*)' version (\S+) is not the loaded version (\S+)$/,
    "mẫu phiếu '{1}' phiên bản {2} không khớp phiên bản đang dùng ({3})"],
  [/^form '([\s\S]*)' has no page (\d+)$/, "mẫu phiếu '{1}' không có trang {2}"],
  [/^a page of form (\S+) v(\S+); this round reads (\S+) v(\S+)$/,
    "trang của mẫu phiếu {1} (phiên bản {2}); đợt khảo sát này dùng mẫu {3} (phiên bản {4})"],
  [/^cannot split the file: ([\s\S]*)$/, "không tách được các trang của tệp: {1}"],
  [/^reading failed: ([\s\S]*)$/, "lỗi khi đọc trang: {1}"],
  [/^internal error reading the page: ([\s\S]*)$/, "lỗi nội bộ khi đọc trang: {1}"],
  [/^page (\d+): ([\s\S]+)$/, "trang {1}: {r2}"],
  [/^page is (\d+) x (\d+) mm: ([\s\S]+)$/, "trang khổ {1} x {2} mm: {r3}"],
  [/^image is (\d+)x(\d+) pixels, larger than the (\d+)-pixel \/ (\d+) MP limit$/,
    "ảnh {1}x{2} điểm ảnh, vượt giới hạn {3} điểm ảnh / {4} MP"],
  [/^image data is damaged or truncated \(([\s\S]*)\)$/, "dữ liệu ảnh bị hỏng hoặc không đầy đủ ({1})"],
  [/^not a readable image \(([\s\S]*)\)$/, "không phải tệp ảnh đọc được ({1})"],
  [/^cannot open image: ([\s\S]*)$/, "không mở được ảnh: {1}"],
  [/^cannot open: ([\s\S]*)$/, "không mở được tệp: {1}"],
  [/^cannot read \(([\s\S]*)\)$/, "không đọc được ({1})"],
  [/^file claims (\d+) pages, more than the (\d+)-page limit$/, "tệp ghi có {1} trang, vượt giới hạn {2} trang"],
  [/^PDF has (\d+) pages, more than the (\d+)-page limit$/, "tệp PDF có {1} trang, vượt giới hạn {2} trang"],
  [/^not a readable PDF \(([\s\S]*)\)$/, "không phải tệp PDF đọc được ({1})"],
  [/^poppler cannot render it \(([\s\S]*)\)$/, "poppler không dựng được trang ({1})"],
  // page warnings: what the engine worked around in the scan itself
  [/^scanner streak at column (\d+) px \((\d+) px wide\): clean the scanner glass$/,
    "vệt dọc do bụi trên kính máy quét (cột {1} px, rộng {2} px), đã tự loại bỏ khi đọc: hãy lau kính máy quét"],
  [/^scanner streak at row (\d+) px \((\d+) px wide\): clean the scanner glass$/,
    "vệt ngang do bụi trên kính máy quét (hàng {1} px, rộng {2} px), đã tự loại bỏ khi đọc: hãy lau kính máy quét"],
  [/^page misaligned: (\d+)% of the printed boxes found where expected; every answer goes to review$/,
    "trang bị lệch: chỉ {1}% ô in được tìm thấy đúng chỗ; mọi câu trả lời cần kiểm tra lại"],
];

// Vietnamese for an English reason or error, or null when it is not known.
function reasonVi(r, depth = 0) {
  const exact = STRINGS.vi.reasons[r];
  if (exact) return exact;
  if (depth > 3) return null;
  for (const [re, vi] of REASON_PATTERNS_VI) {
    const m = re.exec(r);
    if (m) return vi.replace(/\{(r?)(\d)\}/g, (_, again, i) => (again ? reasonVi(m[+i], depth + 1) || m[+i] : m[+i]));
  }
  // several reasons in one: "page misaligned; two marks"
  const parts = r.split("; ");
  if (parts.length > 1) {
    const vi = parts.map((x) => reasonVi(x, depth + 1));
    if (vi.some((x) => x)) return vi.map((x, i) => x || parts[i]).join("; ");
  }
  return null;
}

// A reason or error from the server in the current language; unknown text stays as the server wrote it.
function reasonText(r) {
  if (!r) return "";
  if (LANG === "vi") return reasonVi(String(r)) || String(r);
  return STRINGS[LANG].reasons[r] || String(r);
}

// Show reasons/errors (joined by " — ") in an element, with the server's English as the tooltip.
function showReason(node, ...parts) {
  const list = parts.filter((x) => x);
  const original = list.join(" — ");
  node.textContent = list.map(reasonText).join(" — ");
  if (original && node.textContent !== original) node.title = original; else node.removeAttribute("title");
}

function applyLang() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll("[data-t]")) {
    const key = el.dataset.t;
    if (!VI_TEXT.has(key)) VI_TEXT.set(key, el.textContent);
    el.textContent = LANG === "vi" ? VI_TEXT.get(key) : (STRINGS.en[key] || VI_TEXT.get(key));
  }
  for (const el of document.querySelectorAll("[data-t-title]")) {
    const key = el.dataset.tTitle;
    if (!VI_TEXT.has("title:" + key)) VI_TEXT.set("title:" + key, el.title);
    el.title = LANG === "vi" ? VI_TEXT.get("title:" + key) : (STRINGS.en[key] || VI_TEXT.get("title:" + key));
  }
  const b = document.getElementById("lang");
  if (b) b.textContent = LANG === "vi" ? "English" : "Tiếng Việt";
}

function toggleLang() {
  LANG = LANG === "vi" ? "en" : "vi";
  try { localStorage.setItem("omr-lang", LANG); } catch (e) { /* private mode */ }
  applyLang();
}
