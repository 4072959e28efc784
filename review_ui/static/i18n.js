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
    decided_by: "Đã quyết định bởi", correction_note: "Sửa một câu trả lời đã duyệt: máy chủ kiểm tra giá trị cũ trước khi ghi.",
    history: "Lịch sử", live: "Hàng đợi",
    readonly: "Tài khoản này chỉ được xem, không được duyệt hay sửa câu trả lời.",
    forbidden: "Bạn không có quyền thực hiện thao tác này.",
    page_undo: "Quyết định về trang không hoàn tác được; hãy quyết định lại trang này.",
    nothing_undo: "Không có quyết định nào để hoàn tác.",
    skipped: "Đã bỏ qua", network: "Lỗi kết nối máy chủ", bad_login: "Sai tên người dùng hoặc mã truy cập.",
    page_no_image: "Trang này không có ảnh.", page_items: "trang", sheet: "Số phiếu", pageno: "Trang", loading: "Đang tải…",
    ocr: "Gợi ý OCR (tesseract)", no_ocr: "(OCR không đọc được)", code_hint: "chữ số",
    // roles: what each account may do (shown after login)
    role_admin: "Quản trị viên: quản lý đợt khảo sát và tài khoản, tải lô phiếu lên, duyệt và sửa câu trả lời.",
    role_operator: "Người vận hành: tải lô phiếu lên và theo dõi tiến độ đọc các lô; tài khoản này không duyệt câu trả lời.",
    role_reviewer: "Người duyệt: kiểm tra các mục máy đọc chưa chắc chắn và quyết định câu trả lời.",
    role_viewer: "Tài khoản chỉ được xem: xem tiến độ, kết quả và trang phiếu, không thay đổi gì.",
    role_other: "Vai trò «{r}»: chỉ được xem.",
    role_names: { admin: "quản trị", operator: "vận hành", reviewer: "người duyệt", viewer: "chỉ xem" },
    session_ended: "Phiên đăng nhập đã kết thúc. Hãy đăng nhập lại.",
    no_rounds: "Chưa có đợt khảo sát nào.", no_batches: "Đợt này chưa có lô phiếu nào.",
    batch_word: "Lô", pages_read: "{d}/{n} trang", to_review: "{n} chờ duyệt",
    // items
    marked_badge: "có dấu", invalid_value: "không hợp lệ (nhiều lựa chọn)",
    two_marks: "Máy thấy nhiều ô được đánh dấu",
    two_marks_hint: "Câu này chỉ được chọn một: chọn phương án đúng (phím số), 0 nếu để trống, X nếu không hợp lệ (nhiều lựa chọn).",
    two_marks_hint_multi: "Chọn các phương án đúng (phím số) rồi Enter; 0 nếu để trống.",
    two_marks_enter: "Câu có nhiều dấu: Enter không lưu gì. Chọn một phương án (phím số), 0 để trống, hoặc X: không hợp lệ.",
    two_marks_enter_multi: "Câu có nhiều dấu: hãy chọn phương án (phím số) trước khi nhấn Enter, hoặc 0 để trống.",
    text_box: "Câu trả lời viết tay (gõ lại theo ảnh)", code_box: "Mã số",
    text_hint: "Enter hoặc T: vào ô để gõ · C: chép gợi ý vào ô · 0: để trống · Esc: rời ô. Enter trong ô trống không lưu gì.",
    empty_enter: "Ô đang trống: Enter không lưu gì. Muốn ghi «để trống», nhấn Esc rồi 0.",
    changed: "Câu trả lời đã bị người khác sửa trong lúc bạn xem", by: "bởi",
    changed_hint: "Kiểm tra lại rồi quyết định lần nữa (J: sang mục khác).",
    not_placed: "Chưa đọc được trang theo mẫu đã chọn",
    placed_read: "Đã đọc trang theo mẫu {f}, trang {p}: {n} câu trả lời{r}.", placed_review: ", {n} mục cần duyệt",
    placed: "Đã xác định mẫu phiếu {f}, trang {p} (trạng thái: {s}).",
    dup_this: "Phiếu này", dup_other: "Phiếu kia (đã có)", dup_missing: "Không tìm thấy phiếu kia.",
    dup_done_this: "Đã giữ phiếu này, phiếu kia không được tính.", dup_done_other: "Đã giữ phiếu kia, phiếu này không được tính.",
    dup_done_both: "Đã ghi nhận hai phiếu khác nhau: cả hai được tính là hai người trả lời.",
    manual_image: "Ảnh trang cần nhập tay", page_no_picture: "Trang này không có ảnh (tệp không đọc được): hãy tải tệp lên lại, nhập tay từ phiếu giấy (M), hoặc đánh dấu không phải phiếu khảo sát (N).", manual_bad_sheet: "Số phiếu: hãy nhập các chữ số in trên phiếu.",
    manual_bad_code: "{f}: mã số phải có đúng {n} chữ số.", manual_done: "Đã lưu nhập tay trang #{p}: {m} câu, {n} câu có trả lời.", retry_done: "Trang được đưa vào hàng đọc lại.",
    // the done screen
    alldone: "Đã duyệt hết. Không còn mục nào cần kiểm tra trong hàng đợi này.",
    held_by_others: "Bạn đã xử lý hết các mục còn trống, nhưng còn {n} mục đang được người khác xử lý. Trang này tự kiểm tra lại sau vài giây.",
    still_reading: "Hết mục cần duyệt lúc này, nhưng các trang vẫn đang được đọc: mục mới sẽ tự hiện ra.",
    held_short: "người khác đang giữ",
    // errors from the server, by status (the server's detail follows)
    err_400: "Yêu cầu không hợp lệ", err_401: "Chưa đăng nhập hoặc phiên đã hết", err_403: "Bạn không có quyền thực hiện thao tác này",
    err_404: "Không tìm thấy", err_409: "Xung đột với thay đổi khác", err_413: "Dữ liệu gửi lên quá lớn",
    err_422: "Dữ liệu không hợp lệ", err_429: "Quá nhiều lần thử. Hãy đợi {s} giây rồi thử lại.", err_500: "Lỗi máy chủ",
    code: "mã",
    // page view
    page_title: "Trang", of_file: "trang {n} của tệp", alignment: "căn chỉnh", no_audit: "Chưa có thay đổi nào.",
    status_names: {
      answered: "có trả lời", blank: "để trống", uncertain: "chưa chắc chắn", multiple: "nhiều dấu", ok: "đã đọc",
      unrecognized: "không nhận dạng được", rejected: "không phải phiếu", error: "lỗi", duplicate: "trùng phiếu",
      queued: "đang chờ", processing: "đang đọc", done: "xong", pending: "chờ duyệt", failed: "thất bại",
    },
    source_names: { engine: "máy đọc", reviewer: "người duyệt", ocr: "OCR", manual: "nhập tay" },
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
      "this page has no registration markers and cannot be read; rescan it or mark it as not a questionnaire":
        "trang này không có dấu định vị nên máy không đọc được; hãy quét lại, nhập tay, hoặc đánh dấu không phải phiếu khảo sát",
      "Not Found": "máy chủ không có địa chỉ này (có thể là phiên bản cũ)",
      "nothing to undo": "không có gì để hoàn tác",
      "say which queue: batch=ID or round=R": "hãy chọn hàng đợi: một lô hoặc một đợt khảo sát",
      "only a decided item can be undone": "chỉ hoàn tác được mục đã quyết định",
      "page decisions are corrected by deciding the page again": "quyết định về trang được sửa bằng cách quyết định lại trang đó",
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
    keepthis: "Keep this sheet (1)", keepother: "Keep the other sheet (2)", keepboth: "Two different sheets (3)",
    accept: "Accept suggestion (Enter)", save: "Save (Enter)", blank: "Blank (0)", undo: "Undo (U)", prev: "Previous (K)", next: "Skip / next (J)",
    alldone: "All done. Nothing left to review in this queue.", back_choose: "Choose another queue",
    keys: "Keyboard shortcuts", k_digit: "choose an option (multiple choice: toggle, then Enter saves)",
    k_blank: "blank (only this key: Enter never stores an empty box)", k_enter: "accept the suggestion / save what is chosen or typed; handwriting: into the box when it is empty", k_move: "previous decision / skip or next",
    k_undo: "undo the last decision", k_n: "page is not a questionnaire", k_esc: "leave the text box (or the manual form) so the keys work again (T: back into it)",
    k_help: "show / hide this table", close: "Close (Esc)", progress_h: "Progress", fields_h: "Answers", audit_h: "Audit log",
    col_q: "Question", col_v: "Value", col_s: "Status", col_src: "Source", col_conf: "Confidence",
    col_at: "When", col_user: "User", col_act: "Action", col_change: "Old → new", back_queue: "← Review queue",
    zoom_fit: "Fit", zoom_hint: "Wheel: zoom · drag: move · + − 0 keys",
    stored: "Stored value", suggestion: "Engine's reading", none: "(blank)", left: "Left", done: "Done", done_today: "today", item: "Item",
    total: "Total", reviewer: "Reviewer", nobody: "Nobody has reviewed an item yet.",
    claimed: "This item is being reviewed by someone else", claimed_hint: "Press J to skip it and take another.",
    decided_by: "Decided by", correction_note: "Correcting a decided answer: the server checks the old value before writing.",
    history: "History", live: "Queue",
    readonly: "This account can only view; it cannot review or change answers.",
    forbidden: "You are not allowed to do this.",
    page_undo: "A page decision cannot be undone; decide this page again.",
    nothing_undo: "No decision to undo.",
    skipped: "Skipped", network: "Cannot reach the server", bad_login: "Wrong user name or access token.",
    page_no_image: "This page has no image.", page_items: "page", sheet: "Sheet no.", pageno: "Page", loading: "Loading…",
    ocr: "OCR suggestion (tesseract)", no_ocr: "(OCR read nothing)", code_hint: "digits",
    batches_h: "Batches of the round", col_batch: "Batch", col_state: "Status", col_read: "Read", col_failed: "Failed", col_review: "To review",
    manual_hint: "Digit: pick the option and go to the next question · 0: blank · Tab / Shift+Tab: next / previous · Ctrl+Enter: save",
    manual_save: "Save the keyed-in answers (Ctrl+Enter)", copy_sugg: "Copy the suggestion into the box (C)", manual_open: "Key in by hand (M)",
    invalid: "Invalid (several choices) · X", recheck: "Check again (R)",
    k_x: "invalid: several choices where only one is allowed", k_tc: "handwriting: into the box · copy the OCR suggestion into the box",
    k_m: "unrecognised page: key in its answers from the image", k_dup: "duplicate serial: keep this sheet / keep the other / two different sheets",
    role_admin: "Administrator: manages rounds and accounts, uploads batches, reviews and corrects answers.",
    role_operator: "Operator: uploads batches and watches them being read; this account does not review answers.",
    role_reviewer: "Reviewer: checks what the engine was unsure of and decides the answers.",
    role_viewer: "Read-only account: sees progress, results and pages, changes nothing.",
    role_other: "Role '{r}': read-only.",
    role_names: { admin: "admin", operator: "operator", reviewer: "reviewer", viewer: "viewer" },
    session_ended: "The session has ended. Please log in again.",
    no_rounds: "No survey round yet.", no_batches: "This round has no batch yet.",
    batch_word: "Batch", pages_read: "{d}/{n} pages", to_review: "{n} to review",
    marked_badge: "marked", invalid_value: "invalid (several choices)",
    two_marks: "The engine saw several marked boxes",
    two_marks_hint: "Only one answer is allowed: pick the right option (digit), 0 if blank, X if invalid (several choices).",
    two_marks_hint_multi: "Pick the right options (digits) then Enter; 0 if blank.",
    two_marks_enter: "Several marks: Enter stores nothing. Pick an option (digit), 0 for blank, or X: invalid.",
    two_marks_enter_multi: "Several marks: pick the options (digits) before Enter, or 0 for blank.",
    text_box: "Handwritten answer (type it from the image)", code_box: "Code",
    text_hint: "Enter or T: into the box · C: copy the suggestion into the box · 0: blank · Esc: leave the box. Enter in an empty box stores nothing.",
    empty_enter: "The box is empty: Enter stores nothing. To store a blank, press Esc then 0.",
    changed: "The answer was changed by someone else while you looked at it", by: "by",
    changed_hint: "Check it and decide again (J: next item).",
    not_placed: "The page could not be read as the chosen form",
    placed_read: "Page read as form {f}, page {p}: {n} answers{r}.", placed_review: ", {n} to review", placed: "Form {f}, page {p} set (status: {s}).",
    dup_this: "This sheet", dup_other: "The other sheet (earlier)", dup_missing: "The other sheet was not found.",
    dup_done_this: "This sheet kept; the other is not counted.", dup_done_other: "The other sheet kept; this one is not counted.",
    dup_done_both: "Two different sheets: both count as two respondents.",
    manual_image: "Image of the page to key in", page_no_picture: "This page has no image (the file could not be read): upload the file again, key it in from the paper (M), or mark it as not a questionnaire (N).", manual_bad_sheet: "Sheet no.: type the digits printed on the sheet.",
    manual_bad_code: "{f}: the code needs exactly {n} digits.", manual_done: "Keyed-in page #{p} saved: {m} questions, {n} answered.", retry_done: "The page is queued to be read again.",
    retry: "Read the page again (R)", k_r: "page that could not be read: read it again · end screen: check again",
    held_by_others: "You have settled every free item, but {n} items are being handled by other reviewers. This page checks again in a few seconds.",
    still_reading: "Nothing to review right now, but pages are still being read: new items will appear.",
    held_short: "held by others",
    err_400: "Bad request", err_401: "Not logged in or the session has ended", err_403: "You are not allowed to do this",
    err_404: "Not found", err_409: "Conflicts with another change", err_413: "What was sent is too large",
    err_422: "Invalid data", err_429: "Too many attempts. Wait {s} seconds and try again.", err_500: "Server error",
    code: "code",
    page_title: "Page", of_file: "page {n} of the file", alignment: "alignment", no_audit: "No changes yet.",
    status_names: {
      answered: "answered", blank: "blank", uncertain: "uncertain", multiple: "several marks", ok: "read",
      unrecognized: "not recognised", rejected: "not a questionnaire", error: "error", duplicate: "duplicate",
      queued: "queued", processing: "reading", done: "done", pending: "pending", failed: "failed",
    },
    source_names: { engine: "engine", reviewer: "reviewer", ocr: "OCR", manual: "keyed in" },
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

// ---------------------------------------------------------------- office pages (issue 11): navigation,
// upload, admin, results. Static text carries data-t (Vietnamese in the HTML); these are the English
// words for those keys and the dynamic strings in both languages.
Object.assign(STRINGS.vi, {
  nav_label: "Các trang", nav_admin: "Quản trị", nav_upload: "Tải lên", nav_review: "Duyệt", nav_results: "Kết quả",
  nav_grid: "Duyệt theo lưới", nav_check: "Kiểm tra chất lượng",
  ad_qc_over: "Cảnh báo: cận trên của tỷ lệ máy đọc sai ({hi}) vượt ngưỡng {lim} đặt cho đợt này.",
  ad_qc_none: "Cảnh báo: tỷ lệ máy đọc sai chưa đo được ({n} câu của mẫu kiểm tra chưa được kiểm tra).",
  ad_qc_confirm: "Vẫn đóng đợt «{r}» và công bố kết quả?",
  closed_word: "đã đóng",
  // upload
  up_limits: "Nhận các tệp {e}; mỗi tệp tối đa {m} MB. Kiểm tra loại và dung lượng trước khi gửi.",
  up_bad_type: "loại tệp không nhận; chỉ nhận {e}", up_empty: "tệp rỗng (0 byte)", up_too_big: "tệp lớn hơn {m} MB",
  up_st_bad: "Không gửi", up_st_ready: "Sẵn sàng", up_st_waiting: "Đang chờ gửi", up_st_sending: "Đang gửi…",
  up_st_retry: "Mất kết nối, sẽ gửi lại (lần {n}/{m})", up_st_sent: "Đã gửi · lô #{b}", up_st_failed: "Gửi không được",
  up_resend: "Gửi lại", up_send: "Gửi {n} tệp", up_no_round: "Hãy chọn đợt khảo sát.", up_overall: "Tiến độ chung",
  up_summary: "Đã gửi {sent}/{all} tệp ({size}) · {bad} tệp không hợp lệ · {failed} tệp lỗi",
  up_dup: "tệp này đã được tải lên trước đó trong đợt; các trang không bị tính hai lần",
  up_batch_states: { queued: "đang chờ đọc", processing: "đang đọc", done: "đã đọc xong", failed: "lỗi" },
  // admin
  ad_yes: "có", ad_no: "không", ad_disable: "Tắt", ad_enable: "Bật", ad_new_token: "Cấp mã mới",
  ad_active_acc: "đang dùng", ad_disabled_acc: "đã tắt", ad_open: "đang mở", ad_closed: "đã đóng",
  ad_close: "Đóng đợt", ad_reopen: "Mở lại", ad_saved: "Đã lưu.", ad_row: "Dòng",
  ad_agency_added: "Đã thêm cơ quan {c}.", ad_user_added: "Đã tạo tài khoản {n}.", ad_round_added: "Đã tạo đợt {n}.",
  ad_token_once: "Mã truy cập của {n} (chỉ hiện một lần, hãy chép và giao cho người dùng):",
  ad_import_ok: "Đã nhập {r} dòng: {c} cơ quan mới, {u} cơ quan cập nhật.",
  ad_import_bad: "Không nhập gì cả: danh sách có lỗi ở các dòng dưới đây. Sửa tệp rồi nhập lại.",
  ad_bad_targets: "Mẫu mục tiêu: «{p}» phải có dạng MÃ=số",
  ad_printed: "Đã tải tệp PDF để in, số phiếu {s}.",
  // results
  rs_csv_labels: "CSV (tiêu đề và nhãn tiếng Việt)", rs_report_pdf: "Báo cáo (PDF)", rs_report_html: "Báo cáo (xem trên trang)",
  rs_overall_n: "n = {n} · {s} phiếu · {p} mục chờ duyệt", rs_no_agency: "(không rõ cơ quan)",
  rs_no_ranking: "Chưa có cơ quan nào có câu trả lời.", rs_col_index: "Chỉ số",
  rs_no_compare: "Không so sánh", rs_groups: "Nhóm người trả lời", rs_no_answer: "Không trả lời",
  rs_up: "tăng {p} điểm", rs_down: "giảm {p} điểm", rs_same: "không đổi", rs_no_change_data: "không có số liệu để so sánh",
  rs_change_line: "({w} so với đợt «{r}»: {v}%)", rs_previous: "Đợt «{r}»", rs_viewing: "Đang xem",
  rs_compared_with: "so sánh với đợt «{r}»", rs_period: "Thời gian nhận phiếu",
});
Object.assign(STRINGS.en, {
  nav_label: "Pages", nav_admin: "Admin", nav_upload: "Upload", nav_review: "Review", nav_results: "Results",
  nav_grid: "Grid review", nav_check: "Quality check",
  ad_qc_over: "Warning: the upper bound of the engine's measured error rate ({hi}) is above this round's limit of {lim}.",
  ad_qc_none: "Warning: the engine's error rate is not measured yet ({n} answers of the quality sample are unchecked).",
  ad_qc_confirm: "Close round «{r}» and publish its figures anyway?", grid_link: "Grid review: many like items at once",
  closed_word: "closed",
  up_title: "Upload batches", up_choose: "Choose the round, the agency and the files", up_agency: "Agency",
  up_agency_none: "(from the QR code on the sheet)", up_drop: "Drop files or a whole folder here, or:",
  up_pick_files: "Choose files…", up_pick_folder: "Choose a folder…", up_clear: "Clear the list",
  up_files_h: "Files", up_col_file: "File", up_col_size: "Size", up_col_progress: "Progress", up_col_state: "State",
  up_batches_h: "Batches of the round (live)", up_col_read: "Pages read", up_col_blank: "Blank pages", up_col_problems: "Errors and warnings",
  up_limits: "Accepts {e} files; at most {m} MB each. Type and size are checked before sending.",
  up_bad_type: "file type not accepted; only {e}", up_empty: "empty file (0 bytes)", up_too_big: "file larger than {m} MB",
  up_st_bad: "Not sent", up_st_ready: "Ready", up_st_waiting: "Waiting", up_st_sending: "Sending…",
  up_st_retry: "Connection lost, sending again (try {n}/{m})", up_st_sent: "Sent · batch #{b}", up_st_failed: "Could not send",
  up_resend: "Send again", up_send: "Send {n} files", up_no_round: "Choose a survey round.", up_overall: "Overall progress",
  up_summary: "Sent {sent}/{all} files ({size}) · {bad} not accepted · {failed} failed",
  up_dup: "this file was uploaded before in this round; its pages are not counted twice",
  up_batch_states: { queued: "waiting to be read", processing: "being read", done: "read", failed: "failed" },
  ad_title: "Administration", ad_agencies: "Agencies", ad_code: "Code", ad_name: "Name", ad_kind: "Kind", ad_parent: "Parent code",
  ad_active: "Active", ad_add_agency: "Add agency", ad_import_file: "List file (XLSX or CSV: Mã, Tên, Loại, Mã cấp trên, Hoạt động)",
  ad_import: "Import list", ad_users: "Accounts", ad_role: "Role", ad_state: "State", ad_last_login: "Last sign-in",
  ad_create_user: "Create account", ad_rounds: "Survey rounds", ad_round_name: "Round name", ad_period: "Period",
  ad_targets: "Target sample (CODE=n, …)", ad_create_round: "Create round", ad_print: "Print forms", ad_count: "Sheets",
  ad_print_btn: "Download the PDF to print", ad_serials: "Serials printed", ad_returned: "Returned", ad_rate: "Response rate", ad_when: "Printed at",
  ad_yes: "yes", ad_no: "no", ad_disable: "Disable", ad_enable: "Enable", ad_new_token: "New token",
  ad_active_acc: "active", ad_disabled_acc: "disabled", ad_open: "open", ad_closed: "closed",
  ad_close: "Close round", ad_reopen: "Reopen", ad_saved: "Saved.", ad_row: "Row",
  ad_agency_added: "Agency {c} added.", ad_user_added: "Account {n} created.", ad_round_added: "Round {n} created.",
  ad_token_once: "Access token of {n} (shown once only: copy it and hand it to the user):",
  ad_import_ok: "Imported {r} rows: {c} new agencies, {u} updated.",
  ad_import_bad: "Nothing imported: the list has errors in the rows below. Fix the file and import it again.",
  ad_bad_targets: "Target sample: «{p}» must read CODE=n",
  ad_printed: "PDF to print downloaded, serials {s}.",
  res_title: "Survey results", rs_all_agencies: "All agencies", rs_channel: "Channel", rs_ch_all: "All", rs_ch_paper: "Paper",
  rs_ch_online: "Online", rs_overall: "Overall satisfaction index", rs_downloads: "Downloads", rs_chart_elements: "Index per element",
  rs_elements: "Elements and criteria", rs_col_item: "Element / criterion", rs_col_index: "Index", rs_col_n: "n",
  rs_ranking: "Agency ranking", rs_col_rank: "Rank", rs_chart_agencies: "Overall index per agency",
  rs_csv_labels: "CSV (Vietnamese headers and labels)", rs_report_pdf: "Report (PDF)", rs_report_html: "Report (in the browser)",
  rs_overall_n: "n = {n} · {s} sheets · {p} items waiting for review", rs_no_agency: "(agency unknown)",
  rs_no_ranking: "No agency has answers yet.",
  rs_period: "Received in", rs_compare: "Compare with round", rs_no_compare: "No comparison", rs_apply: "Show",
  rs_period_hint: "Period: 2026, 2026-Q1, 2026-03, 2026-03-15 or 2026-03-01..2026-04-15 (empty: the whole round).",
  rs_groups: "Respondent group", rs_col_index_pct: "Index (%)", rs_col_change: "Change (points)",
  rs_chart_dist: "Answers per criterion",
  rs_dist_note: "Shares of each criterion's final answers (no answer included); answers still waiting for review are not counted yet.",
  rs_no_answer: "No answer", rs_up: "up {p} points", rs_down: "down {p} points", rs_same: "unchanged",
  rs_no_change_data: "no figures to compare", rs_change_line: "({w} against round “{r}”: {v}%)", rs_previous: "Round “{r}”",
  rs_viewing: "Showing", rs_compared_with: "compared with round “{r}”",
});
// ---------------------------------------------------------------- the questionnaire designer (issue 13)
Object.assign(STRINGS.vi, {
  nav_designer: "Thiết kế phiếu",
  ds_no_grid: "(không: từng câu có lựa chọn riêng)", ds_typed: "Tự nhập các lựa chọn", ds_shared_mark: "(bộ dùng chung)",
  ds_one_per_line: "Các lựa chọn, mỗi dòng một: số = nhãn", ds_add_page: "Thêm trang", ds_general: "Thông tin chung",
  ds_id: "Mã mẫu phiếu", ds_f_title: "Tên phiếu", ds_subtitle: "Dòng dưới tên phiếu", ds_issuer: "Cơ quan ban hành",
  ds_issuer_sub: "Dòng thứ hai của cơ quan", ds_national: "In Quốc hiệu, Tiêu ngữ", ds_intro: "Lời mở đầu",
  ds_instructions: "Hướng dẫn đánh dấu", ds_closing: "Lời cảm ơn cuối phiếu", ds_option_sets: "Các bộ lựa chọn của phiếu",
  ds_set_name: "Tên bộ", ds_delete: "Xóa", ds_add_set: "Thêm bộ lựa chọn", ds_page: "Trang", ds_add_section: "Thêm phần",
  ds_section: "Phần", ds_drag: "Kéo để đổi chỗ (hoặc Alt+↑/↓)", ds_up: "Lên", ds_down: "Xuống", ds_s_title: "Tiêu đề phần",
  ds_grid: "Thang chung (bảng)", ds_note: "Ghi chú của phần", ds_drop_here: "Thả câu hỏi vào cuối phần này",
  ds_add_question: "Thêm câu hỏi", ds_question: "Câu", ds_number: "Số", ds_qid: "Mã câu", ds_kind: "Loại câu hỏi",
  ds_kinds: { single: "một lựa chọn", multiple: "nhiều lựa chọn", text: "văn bản", code: "mã số" },
  ds_in_grid: "Một lựa chọn trên thang chung của phần", ds_q_text: "Nội dung câu hỏi", ds_options: "Các lựa chọn",
  ds_columns: "Số cột", ds_digits: "Số chữ số", ds_lines: "Số dòng viết", ds_no_element: "(không tính vào chỉ số)",
  ds_element: "Thuộc yếu tố (chỉ số)", ds_element_none: "Thuộc yếu tố (chưa có yếu tố nào)", ds_moved: "Đã chuyển câu hỏi tới vị trí {w}.",
  ds_element_n: "Yếu tố", ds_criteria: "Tiêu chí (câu hỏi một lựa chọn)", ds_no_singles: "Chưa có câu hỏi một lựa chọn nào.",
  ds_el_id: "Mã", ds_el_name: "Tên yếu tố", ds_groups: "Nhóm người trả lời (để chia kết quả)", ds_indices: "Cách tính chỉ số",
  ds_satisfied: "Mức được tính là hài lòng", ds_scale: "Thang điểm", ds_add_element: "Thêm yếu tố",
  ds_preview_alt: "Bản in của trang", ds_no_page: "Mẫu phiếu không có trang này.",
  ds_preview_bad: "Chưa xem trước được: mẫu phiếu còn lỗi (xem danh sách lỗi).", ds_whole: "(cả mẫu phiếu)",
  ds_problems_n: "{n} lỗi cần sửa", ds_ok_pages: "✓ Hợp lệ · {n} trang", ds_checking: "Đang kiểm tra…", ds_shipped_mark: "(mẫu có sẵn)",
  ds_opened: "Đã mở {id} phiên bản {v}.", ds_opened_frozen: "Đã mở {id} phiên bản {v}. Phiên bản này đã dùng cho một đợt khảo sát: khi lưu sẽ tạo phiên bản mới, phiên bản cũ giữ nguyên.",
  ds_pick_file: "Hãy chọn một tệp XLSX hoặc YAML.", ds_imported: "Đã nhập {f}: {n} câu hỏi. Phiếu chưa được lưu.",
  ds_saved_new: "Đã lưu {id} thành phiên bản mới {v} (phiên bản trước đã in hoặc đã dùng nên được giữ nguyên).",
  ds_saved_same: "Đã lưu {id} phiên bản {v} (chưa in nên được ghi đè).", ds_saved_first: "Đã lưu mẫu phiếu mới {id}, phiên bản {v}.", ds_not_saved: "Chưa lưu: còn {n} lỗi.",
  ds_export_bad: "Chưa xuất được: mẫu phiếu còn lỗi.", ds_exported: "Đã xuất {f}.", ds_versions: "Các phiên bản",
  ds_no_versions: "Mẫu phiếu này chưa được lưu.", ds_latest: "(mới nhất)", ds_frozen: "đã khóa", ds_trial_pdf: "In thử (PDF)",
  ds_compare: "So sánh hai phiên bản", ds_from: "Từ", ds_to: "Đến", ds_compare_btn: "So sánh", ds_indices_changed: "Cách tính chỉ số đã thay đổi.",
  ds_cmp_head: "v{a} → v{b}: thêm {n}, bớt {r}, sửa {c} câu hỏi.", ds_same: "Hai phiên bản giống nhau.",
  ds_new_started: "Phiếu mới: nhập mã mẫu phiếu, rồi thêm phần và câu hỏi.", ds_deleted: "Đã xóa {w}.",
});
Object.assign(STRINGS.en, {
  nav_designer: "Form designer",
  ds_title: "Form designer", ds_zoom: "Actual size", ds_template: "Form", ds_version: "Version", ds_open: "Open", ds_new: "New form",
  ds_import_file: "Import from a file (XLSX, YAML)", ds_import: "Import", ds_sample: "Sample question list (XLSX)",
  ds_export: "Export YAML", ds_save: "Save (Ctrl+S)", ds_tab_preview: "Preview", ds_tab_indices: "Indices and groups", ds_tab_versions: "Versions",
  ds_no_grid: "(none: each question has its own options)", ds_typed: "Options typed here", ds_shared_mark: "(shared set)",
  ds_one_per_line: "Options, one per line: value = label", ds_add_page: "Add page", ds_general: "General",
  ds_id: "Form id", ds_f_title: "Title", ds_subtitle: "Line under the title", ds_issuer: "Issuing agency",
  ds_issuer_sub: "Agency's second line", ds_national: "Print the national header", ds_intro: "Introduction",
  ds_instructions: "Marking instructions", ds_closing: "Closing line", ds_option_sets: "The form's option sets",
  ds_set_name: "Set name", ds_delete: "Delete", ds_add_set: "Add option set", ds_page: "Page", ds_add_section: "Add section",
  ds_section: "Section", ds_drag: "Drag to move (or Alt+↑/↓)", ds_up: "Up", ds_down: "Down", ds_s_title: "Section title",
  ds_grid: "Common scale (grid)", ds_note: "Section note", ds_drop_here: "Drop a question at the end of this section",
  ds_add_question: "Add question", ds_question: "Question", ds_number: "No.", ds_qid: "Question id", ds_kind: "Kind",
  ds_kinds: { single: "single choice", multiple: "multiple choice", text: "free text", code: "code" },
  ds_in_grid: "Single choice on the section's common scale", ds_q_text: "Question text", ds_options: "Options",
  ds_columns: "Columns", ds_digits: "Digits", ds_lines: "Writing lines", ds_no_element: "(not in an index)",
  ds_element: "Counts in element", ds_element_none: "Counts in element (none defined yet)", ds_moved: "Question moved to position {w}.",
  ds_element_n: "Element", ds_criteria: "Criteria (single-choice questions)", ds_no_singles: "No single-choice question yet.",
  ds_el_id: "Id", ds_el_name: "Element name", ds_groups: "Respondent groups (to break results down)", ds_indices: "Index definition",
  ds_satisfied: "Values counted as satisfied", ds_scale: "Score scale", ds_add_element: "Add element",
  ds_preview_alt: "Printed page", ds_no_page: "The form has no such page.",
  ds_preview_bad: "No preview yet: the form has problems (see the list).", ds_whole: "(whole form)",
  ds_problems_n: "{n} problems to fix", ds_ok_pages: "✓ Valid · {n} pages", ds_checking: "Checking…", ds_shipped_mark: "(shipped)",
  ds_opened: "Opened {id} version {v}.", ds_opened_frozen: "Opened {id} version {v}. This version was used for a survey round: saving makes a new version and keeps this one.",
  ds_pick_file: "Choose an XLSX or YAML file.", ds_imported: "Imported {f}: {n} questions. The form is not saved yet.",
  ds_saved_new: "Saved {id} as new version {v} (the previous version was printed or used and stays as it was).",
  ds_saved_same: "Saved {id} version {v} (not printed yet, so replaced).", ds_saved_first: "Saved the new form {id}, version {v}.", ds_not_saved: "Not saved: {n} problems left.",
  ds_export_bad: "Cannot export: the form has problems.", ds_exported: "Exported {f}.", ds_versions: "Versions",
  ds_no_versions: "This form has not been saved yet.", ds_latest: "(latest)", ds_frozen: "frozen", ds_trial_pdf: "Trial print (PDF)",
  ds_compare: "Compare two versions", ds_from: "From", ds_to: "To", ds_compare_btn: "Compare", ds_indices_changed: "The index definition changed.",
  ds_cmp_head: "v{a} → v{b}: {n} added, {r} removed, {c} changed questions.", ds_same: "The two versions are the same.",
  ds_new_started: "New form: type the form id, then add sections and questions.", ds_deleted: "Deleted {w}.",
});
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
  [/^form '([\s\S]*)' version (\S+) is not known \(known versions: ([^)]*)\)$/,
    "mẫu phiếu '{1}' phiên bản {2} chưa có trên máy chủ (các phiên bản đã có: {3})"],
  [/^form '([\s\S]*)' has no page (\d+)$/, "mẫu phiếu '{1}' không có trang {2}"],
  [/^a page of form (\S+) v(\S+); this round reads (\S+) v(\S+)$/,
    "trang của mẫu phiếu {1} (phiên bản {2}); đợt khảo sát này dùng mẫu {3} (phiên bản {4})"],
  [/^page must be 1\.\.(\d+) and sheet a number$/, "số trang phải từ 1 đến {1} và số phiếu phải là số"],
  [/^page must be a whole number from (\d+) to (\d+)$/, "số trang phải là số nguyên từ {1} đến {2}"],
  [/^(\S+) must be a whole number from (\d+) to (\d+)$/, "{1} phải là số nguyên từ {2} đến {3}"],
  [/^sheet must be the serial printed on the sheet: 1 to 12 digits$/, "số phiếu phải là dãy số in trên phiếu: từ 1 đến 12 chữ số"],
  [/^this round reads (\S+) v(\S+); a page of (\S+) v(\S+) cannot be counted in it: [\s\S]*$/,
    "đợt khảo sát này dùng mẫu {1} (phiên bản {2}); trang của mẫu {3} (phiên bản {4}) không được tính vào đợt này: hãy tải trang lên một đợt dùng mẫu đó, hoặc đánh dấu không phải phiếu khảo sát"],
  [/^this page's registration marks were not found, so it cannot be read as a form: [\s\S]*$/,
    "không tìm thấy dấu định vị của trang nên máy không đọc được trang theo mẫu: hãy nhập tay các câu trả lời (M), quét lại, hoặc đánh dấu không phải phiếu khảo sát"],
  [/^the file itself could not be read: [\s\S]*$/,
    "chính tệp này không đọc được: hãy tải tệp lên lại (tệp có mọi trang lỗi được nhận lại để đọc lại), hoặc nhập tay các câu trả lời từ phiếu giấy"],
  [/^no questionnaire '([\s\S]*)' \(known: ([\s\S]*)\)$/, "không có mẫu phiếu '{1}' (các mẫu đã biết: {2})"],
  [/^manual entry: ([\s\S]*)$/, "nhập tay: {r1}"],
  [/^missing: ([\s\S]*)$/, "còn thiếu: {1}"],
  [/^not on page (\d+) of (\S+): ([\s\S]*)$/, "không có ở trang {1} của mẫu {2}: {3}"],
  [/^manual must map every field of the page to its value \(null = blank\)$/, "nhập tay phải có mọi câu của trang (để trống = null)"],
  [/^([\w.]+): only a single-choice or code question can be invalid \(several marks\)$/, "{1}: chỉ câu chọn một hoặc mã số mới có thể «không hợp lệ (nhiều lựa chọn)»"],
  [/^([\w.]+): value must be a list of ([\s\S]*)$/, "{1}: giá trị phải là danh sách trong {2}"],
  [/^([\w.]+): value must be text \(at most (\d+) characters\)$/, "{1}: giá trị phải là chữ (tối đa {2} ký tự)"],
  [/^(\S+) has version (\S+), not (\S+)$/, "mẫu {1} có phiên bản {2}, không phải {3}"],
  [/^(\S+) decided this item; only they \(or an admin\) can undo it$/, "{1} đã quyết định mục này; chỉ người đó (hoặc quản trị viên) hoàn tác được"],
  [/^no template '([\s\S]*)'$/, "không có mẫu phiếu '{1}'"],
  [/^no review item (\d+)$/, "không có mục duyệt {1}"],
  [/^no page (\d+)$/, "không có trang {1}"],
  [/^([\w.]+): value must be (\d+) digits$/, "{1}: phải có đúng {2} chữ số"],
  [/^([\w.]+): value must be one of ([\s\S]*) or null$/, "{1}: giá trị phải là một trong {2} hoặc để trống"],
  [/^already decided by (\S+); send 'expected' with the current value to correct it$/, "{1} đã quyết định mục này trước"],
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

// ---------------------------------------------------------------- admin: agency edit, backup line, online
// answers; upload: limits from the service, resume after a lost connection (issue 11, second part)
Object.assign(STRINGS.vi, {
  ad_edit: "Sửa", ad_agency_saved: "Đã lưu cơ quan {c}.", ad_col: "cột",
  ad_backup_last: "Sao lưu gần nhất: {w}", ad_backup_none: "Sao lưu gần nhất: chưa có bản sao lưu (chạy omr backup THƯ_MỤC)",
  ad_backup_old: "— đã {d} ngày, hãy sao lưu lại",
  ad_online_saved: "Cách ghép cột đã lưu cho mẫu phiếu này: {n} cột (lần trước do {u} lưu).",
  ad_online_nosaved: "Chưa có cách ghép cột đã lưu cho mẫu phiếu này: cột được ghép theo tiêu đề.",
  ad_online_skip: "(bỏ qua cột này)", ad_online_agency: "Mã cơ quan", ad_online_q: "Câu hỏi",
  ad_online_pick: "Hãy chọn đợt khảo sát và tệp câu trả lời.",
  ad_online_dry: "Kiểm tra xong (chưa nhập gì): {r} dòng, {t} dòng nhận, {x} dòng bị từ chối.",
  ad_online_done: "Đã nhập {t} dòng vào đợt; {x} dòng bị từ chối (xem dưới đây).",
  up_resume: "Gửi tiếp {n} tệp chưa xong", up_lost: "Mất kết nối tới máy chủ: {n} tệp chưa được máy chủ nhận. Khi máy chủ chạy lại, bấm «Gửi tiếp».",
});
Object.assign(STRINGS.en, {
  ad_edit: "Edit", ad_agency_saved: "Agency {c} saved.", ad_col: "column",
  ad_edit_agency: "Edit agency", ad_save: "Save changes", ad_cancel: "Cancel",
  ad_backup_last: "Last backup: {w}", ad_backup_none: "Last backup: no backup yet (run omr backup DIR)",
  ad_backup_old: "— {d} days ago, back up again",
  ad_online: "Import online answers", ad_online_file: "Answers file (CSV or XLSX, one row per respondent)",
  ad_online_check: "Check", ad_online_import: "Import", ad_online_col: "Column in the file", ad_online_q: "Question",
  ad_online_saved: "Saved column mapping for this questionnaire: {n} columns (last saved by {u}).",
  ad_online_nosaved: "No saved column mapping for this questionnaire yet: columns are matched by their headers.",
  ad_online_skip: "(skip this column)", ad_online_agency: "Agency code",
  ad_online_pick: "Choose a round and an answers file.",
  ad_online_dry: "Checked (nothing imported yet): {r} rows, {t} taken, {x} refused.",
  ad_online_done: "Imported {t} rows into the round; {x} refused (see below).",
  up_resume: "Resume {n} unfinished files", up_lost: "Lost the connection to the server: {n} files not yet received. When the server is back, press «Resume».",
});
REASON_PATTERNS_VI.push(
  [/^an agency cannot be its own parent$/, "một cơ quan không thể là cấp trên của chính nó"],
  [/^parent '([\s\S]*)' is not a known agency$/, "mã cấp trên «{1}» không phải cơ quan đã có"],
  [/^parent '([\s\S]*)' would make a cycle$/, "mã cấp trên «{1}» tạo thành vòng (cơ quan lại là cấp trên của chính nó)"],
  [/^kind '([\s\S]*)': one of ([\s\S]*)$/, "loại «{1}»: phải là một trong {2}"],
  [/^no agency (\S+)$/, "không có cơ quan {1}"],
  [/^'([\s\S]*)' is not an option: ([\s\S]*)$/, "«{1}» không phải một lựa chọn; các lựa chọn: {2}"],
  [/^'([\s\S]*)' is not a known agency code$/, "«{1}» không phải mã cơ quan đã có"],
  [/^'([\s\S]*)': (\d+) digits$/, "«{1}»: cần đúng {2} chữ số"],
  [/^text longer than 4000 characters$/, "ý kiến dài quá 4000 ký tự"],
  [/^mapping: no column is mapped to a question of (\S+) \(columns: ([\s\S]*)\)$/,
    "ghép cột: chưa cột nào được ghép với một câu hỏi của mẫu {1} (các cột của tệp: {2}); hãy chọn câu hỏi cho từng cột"],
  [/^mapping: ([\s\S]*)$/, "ghép cột: {1}"],
  [/^(\S[\s\S]*): the file is empty$/, "{1}: tệp rỗng"],
);
