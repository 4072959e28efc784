"""Background processing: uploaded files → page images → page results, in worker processes.

The worker boundary is two small picklable task functions (``split_file_task``:
one uploaded file in, its page images out; ``read_page_task``: one page image
file in, one page result out). They run here in a ``ProcessPoolExecutor``;
the same functions could run on a distributed task queue unchanged.

Restart safety: every state change is a database transaction. A page being
read holds a lease; on start, pages left ``processing`` by a killed server are
queued again. Splitting is idempotent (one page row per file and index), and a
page's answers are replaced in the same transaction that marks it done, so a
retry never counts a page twice.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from omr.pipeline import BLANK_PAGE
from service.models import Answer, Batch, Page, ReviewItem, Round, UploadedFile, utcnow
from service.settings import Settings
from service.storage import Store

log = logging.getLogger("omr.worker")


# --- the tasks (run in worker processes) ------------------------------------------------------

def scrub_paths(text: str | None, store_root: str | Path, *, stored: str | Path | None = None, name: str = "") -> str | None:
    """An error message fit for any user: the stored file's path becomes the name the user uploaded it
    under, and no other path inside the store (or the server's data directory) is shown."""
    if not text:
        return text
    if stored is not None:
        text = text.replace(str(stored), name or "the file")
    root = str(Path(store_root))
    if root in text:
        import re

        text = re.sub(re.escape(root) + r"[^\s'\"]*", name or "the file", text)
    return text


def split_file_task(file_path: str, source: str, store_root: str) -> list[dict[str, Any]]:
    """Every page of an uploaded file, stored as a PNG: [{"index", "sha", "error"}]."""
    import cv2

    from omr.io import iter_pages

    store = Store(Path(store_root))
    out = []
    for lp in iter_pages(file_path):
        if lp.image is None:
            out.append({"index": lp.index, "sha": None, "error": scrub_paths(lp.error, store_root, stored=file_path, name=source)})
            continue
        ok, enc = cv2.imencode(".png", lp.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            out.append({"index": lp.index, "sha": None, "error": "cannot encode the page image"})
            continue
        out.append({"index": lp.index, "sha": store.put_bytes("pages", enc.tobytes(), ".png"), "error": None})
    return out


def read_page_task(page_path: str, source: str, index: int, store_root: str, ocr: bool) -> dict[str, Any]:
    """One page image file in, one page result out (JSON), plus the aligned image's hash."""
    import cv2

    from omr.io import iter_pages
    from omr.pipeline import ScanOptions, process_loaded

    lp = next(iter(iter_pages(page_path)))
    lp.source, lp.index = source, index
    out = process_loaded(lp, ScanOptions(ocr=ocr))
    if out.result.error:
        out.result.error = scrub_paths(out.result.error, store_root, stored=page_path, name=source)
    aligned_sha = None
    if out.aligned is not None:
        ok, enc = cv2.imencode(".jpg", out.aligned, [cv2.IMWRITE_JPEG_QUALITY, 88])
        if ok:
            aligned_sha = Store(Path(store_root)).put_bytes("aligned", enc.tobytes(), ".jpg")
    return {"result": out.result.to_json(), "aligned_sha": aligned_sha}


def _new_pool(workers: int, forms_dir: Path | None = None) -> ProcessPoolExecutor:
    """Readers started as fresh interpreters (spawn), not forked from the server: the server has
    threads (uvicorn, this worker, OpenCV's pool for review crops), and a fork copies their locks
    and pool state into a child where those threads do not exist: a reader could hang for good in
    its first parallel OpenCV call, leaving its page "processing". (Not forkserver: it hands every
    reader a pipe that keeps the forkserver, and so the readers, alive after the server is killed.)"""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=init_reader, initargs=(str(forms_dir) if forms_dir else None,))


def init_reader(forms_dir: str | None = None) -> None:
    """Start of every reader process: it lives and dies with the server.

    Readers are forked after uvicorn has installed its signal handlers; inherited, those
    would turn SIGTERM into a flag nobody in the reader looks at, and a reader holds its own
    copy of the pool's pipes, so it never notices the server is gone. Left as they were, a
    stopped or killed server would leave its readers behind for good."""
    from omr.procs import die_with_parent

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle: it shuts the pool down
    die_with_parent()  # a killed server takes its readers along
    if forms_dir:  # forms made in the browser are read like the shipped ones
        from omr.template import use_forms_dir

        use_forms_dir(forms_dir)


# --- storing results (parent process) ---------------------------------------------------------

REVIEW_STATUSES = ("multiple", "uncertain")


def store_page_result(s: Session, page: Page, result: dict[str, Any], aligned_sha: str | None) -> None:
    """Write one page's reading: answers, review items, identity. Replaces any earlier engine reading."""
    page.aligned_sha256 = aligned_sha
    page.result_status = result["status"]
    page.error = result.get("error")
    page.template = result.get("template")
    page.version = result.get("version")
    page.sheet = result.get("sheet")
    page.page_no = result.get("page")
    page.agency = result.get("agency")
    page.alignment_quality = result.get("alignment_quality")
    page.identified_by = result.get("identified_by")
    page.warnings = json.dumps(result["warnings"], ensure_ascii=False) if result.get("warnings") else None
    page.status = "error" if result["status"] == "error" else "done"
    page.lease_until = None
    s.execute(delete(Answer).where(Answer.page_id == page.id))
    s.execute(delete(ReviewItem).where(ReviewItem.page_id == page.id, ReviewItem.state == "pending"))
    if result["status"] == "unrecognized":
        if result.get("error") == BLANK_PAGE:
            return  # an empty back side (duplex scanning): kept and counted, nothing for a person to decide
        s.add(_page_item(page, "unrecognized page"))
        return
    if result["status"] != "ok":
        s.add(_page_item(page, PAGE_ERROR))
        return
    rnd = s.get(Round, page.round_id)
    if rnd is not None and (page.template, page.version) != (rnd.template, rnd.version):
        page.result_status = "unrecognized"
        page.error = f"a page of form {page.template} v{page.version}; this round reads {rnd.template} v{rnd.version}"
        s.add(_page_item(page, "page of another form"))
        return
    for order, (fid, f) in enumerate(result.get("fields", {}).items()):
        value = f.get("value")
        s.add(
            Answer(
                page_id=page.id, round_id=page.round_id, field_id=fid, value=value,
                value_int=value if isinstance(value, int) and not isinstance(value, bool) else None,
                status=f["status"], confidence=f.get("confidence", 1.0), reason=f.get("reason"),
                source="engine", text_suggestion=f.get("text_suggestion"), marks=f.get("marks"),
            )
        )
        if f["status"] in REVIEW_STATUSES:
            s.add(
                ReviewItem(
                    round_id=page.round_id, batch_id=page.batch_id, page_id=page.id, field_id=fid, kind="field",
                    reason=f.get("reason") or f["status"], confidence=float(f.get("confidence", 0.0)), order_key=order,
                )
            )
    if page.identified_by == "ocr":
        s.add(_page_item(page, "identity read by OCR", confidence=0.5))
    from service.print_runs import has_runs, run_for_serial

    if has_runs(s, page.round_id) and run_for_serial(s, page.round_id, page.sheet) is None:
        # the round prints its sheets through the service and never printed this serial: last year's form,
        # another round's, a misread serial; a person decides (correct the serial, or accept the sheet)
        s.add(_page_item(page, UNPRINTED_SERIAL, confidence=0.5))
    flag_duplicate(s, page)
    s.flush()
    recount(s, page)


def respondent_key(page: Page) -> str | None:
    """The key a page's answers are grouped under: its serial, unless a reviewer settled it as another
    respondent's sheet that happens to carry the same serial (``Page.respondent``, e.g. "000001-2")."""
    return page.respondent or page.sheet


def recount(s: Session, page: Page) -> None:
    """Copy the page's standing onto its answers: whether they count, its sheet and agency."""
    batch = s.get(Batch, page.batch_id)
    counted = page.status == "done" and page.result_status == "ok" and page.duplicate_of is None
    from service.print_runs import run_for_serial

    if not page.agency and (run := run_for_serial(s, page.round_id, page.sheet)) is not None:
        page.agency = run.agency  # the QR code carries none: the print run the serial came from says it
    agency = page.agency or (batch.agency if batch else None)
    old_sheets = {sh for (sh,) in s.execute(select(Answer.sheet).where(Answer.page_id == page.id).distinct())}
    key = respondent_key(page)
    s.execute(
        update(Answer).where(Answer.page_id == page.id)
        .values(counted=counted, sheet=key, agency=agency, channel=page.channel or "paper")
    )
    from service.tallies import refresh_sheet

    for sheet in old_sheets | {key}:
        refresh_sheet(s, page.round_id, sheet)


PAGE_ERROR = "page could not be read"
UNPRINTED_SERIAL = "serial not printed for this round"


def mark_page_error(s: Session, page: Page, error: str | None) -> None:
    """A page that ends in error: kept, never counted, and put before a person (retry, key in, or reject)."""
    page.status, page.result_status, page.error, page.lease_until = "error", "error", error, None
    if not s.scalar(select(ReviewItem.id).where(ReviewItem.page_id == page.id, ReviewItem.state == "pending").limit(1)):
        s.add(_page_item(page, PAGE_ERROR))


def _page_item(page: Page, reason: str, confidence: float = 0.0) -> ReviewItem:
    return ReviewItem(round_id=page.round_id, batch_id=page.batch_id, page_id=page.id, field_id=None, kind="page",
                      reason=reason, confidence=confidence, order_key=-1)


def flag_duplicate(s: Session, page: Page) -> None:
    """The same sheet's same page scanned twice in a round: the later one waits for a person."""
    if not page.sheet or page.page_no is None:
        return
    first = s.scalar(
        select(Page.id)
        .where(
            Page.round_id == page.round_id, Page.template == page.template, Page.sheet == page.sheet,
            Page.page_no == page.page_no, Page.status == "done", Page.result_status == "ok",
            Page.duplicate_of.is_(None), Page.id != page.id,
        )
        .order_by(Page.id)
        .limit(1)
    )
    if first is not None and first < page.id:
        page.duplicate_of = first
        s.add(_page_item(page, "duplicate sheet"))


# --- the dispatcher ---------------------------------------------------------------------------

class Worker:
    """Feeds the process pool from the database and writes the results back."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], store: Store) -> None:
        self.settings = settings
        self.factory = factory
        self.store = store
        self.pool: ProcessPoolExecutor | None = None
        self.inflight: dict[Future, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.wake = threading.Event()

    # lifecycle
    def start(self) -> None:
        self.recover()
        self.pool = _new_pool(self.settings.workers, self.settings.forms_dir)
        self._thread = threading.Thread(target=self._loop, name="omr-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.pool:
            self._shutdown_pool(self.pool)

    @staticmethod
    def _shutdown_pool(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
        """Stop the readers: a page being read may finish within ``grace`` seconds; then they are ended.
        Its page stays "processing" and is read again at the next start (``recover``)."""
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for p in procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(timeout=2)

    def recover(self) -> None:
        """Pages a killed server left half-done go back to the queue. The server's death is not the page's
        failure: the attempt it interrupted is given back (a page is an error only when *it* fails)."""
        with self.factory() as s, s.begin():
            n = s.execute(
                update(Page).where(Page.status == "processing")
                .values(status="queued", lease_until=None, attempts=case((Page.attempts > 0, Page.attempts - 1), else_=0))
            ).rowcount
        if n:
            log.info("recovered %d page(s) left processing by an earlier run", n)

    # the loop
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.step()
            except BrokenProcessPool:
                log.error("a worker process died; restarting the pool")
                self._restart_pool()
                busy = True
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad page
                log.exception("worker step failed")
                busy = False
                time.sleep(1.0)
            if not busy:
                self.wake.wait(0.5)
                self.wake.clear()

    def _restart_pool(self) -> None:
        failed = list(self.inflight.values())
        self.inflight.clear()
        if self.pool:
            self._shutdown_pool(self.pool, grace=0.0)
        self.pool = _new_pool(self.settings.workers, self.settings.forms_dir)
        with self.factory() as s, s.begin():
            for kind, ident in failed:
                if kind == "page":
                    page = s.get(Page, ident)
                    if page and page.status == "processing":
                        if page.attempts < self.settings.max_attempts:
                            page.status = "queued"
                        else:
                            mark_page_error(s, page, "the page crashed the reader repeatedly")

    def step(self) -> bool:
        busy = self._collect()
        capacity = self.settings.workers * 2 - len(self.inflight)
        if capacity > 0:
            busy |= self._submit_splits(capacity)
            capacity = self.settings.workers * 2 - len(self.inflight)
        if capacity > 0:
            busy |= self._submit_pages(capacity)
        return busy or bool(self.inflight)

    def _submit_splits(self, capacity: int) -> bool:
        inflight_files = {i for k, i in self.inflight.values() if k == "file"}
        with self.factory() as s:
            files = s.scalars(
                select(UploadedFile).where(UploadedFile.status == "pending").order_by(UploadedFile.id).limit(capacity + len(inflight_files))
            ).all()
        n = 0
        for f in files:
            if f.id in inflight_files or n >= capacity:
                continue
            path = self.store.path("files", f.sha256)
            fut = self.pool.submit(split_file_task, str(path), f.filename, str(self.store.root))
            self.inflight[fut] = ("file", f.id)
            n += 1
        return n > 0

    def _submit_pages(self, capacity: int) -> bool:
        now = utcnow()
        with self.factory() as s, s.begin():
            pages = s.scalars(
                select(Page)
                .where(or_(Page.status == "queued", (Page.status == "processing") & (Page.lease_until < now)))
                .order_by(Page.id)
                .limit(capacity)
                .with_for_update(skip_locked=True)
            ).all()
            jobs = []
            for p in pages:
                if p.attempts >= self.settings.max_attempts:
                    mark_page_error(s, p, "the page could not be read after repeated attempts")
                    continue
                p.status = "processing"
                p.attempts += 1
                p.lease_until = now + timedelta(seconds=self.settings.lease_seconds)
                f = s.get(UploadedFile, p.file_id)
                jobs.append((p.id, p.image_sha256, f.filename if f else "?", p.index))
        for pid, sha, source, index in jobs:
            path = self.store.path("pages", sha, ".png")
            fut = self.pool.submit(read_page_task, str(path), source, index, str(self.store.root), self.settings.ocr)
            self.inflight[fut] = ("page", pid)
        return bool(jobs)

    def _collect(self) -> bool:
        done = [f for f in self.inflight if f.done()]
        rounds: set[int] = set()
        for fut in done:
            kind, ident = self.inflight.pop(fut)
            exc = fut.exception()
            if isinstance(exc, BrokenProcessPool):
                self.inflight[fut] = (kind, ident)
                raise exc
            with self.factory() as s, s.begin():
                if kind == "file":
                    self._store_split(s, ident, None if exc else fut.result(), exc)
                else:
                    self._store_page(s, ident, None if exc else fut.result(), exc)
                    page = s.get(Page, ident)
                    if page is not None:
                        rounds.add(page.round_id)
        if rounds:
            self._draw_quality(rounds)
        return bool(done)

    def _draw_quality(self, rounds: set[int]) -> None:
        """The quality-control sample keeps up with the answers as they are stored (about 1 in 200 of them), so no
        reader of the figures pays for a whole round's draw at once. In its own transaction: a failure here never
        touches the pages; the next read of ``/api/quality`` draws what is missing."""
        from service import quality

        for rid in sorted(rounds):
            try:
                with self.factory() as s:
                    r = s.get(Round, rid)
                    if r is not None and (r.state or "open") != "closed":
                        quality.draw_pending(s, r, wait=False)
            except Exception:  # noqa: BLE001 - the sample is drawn again later; reading pages goes on
                log.exception("quality sample of round %s not drawn now", rid)

    def _store_split(self, s: Session, file_id: int, pages: list[dict[str, Any]] | None, exc: BaseException | None) -> None:
        f = s.get(UploadedFile, file_id)
        if f is None or f.status != "pending":
            return
        if exc is not None or pages is None:
            f.status = "error"
            f.error = scrub_paths(f"cannot split the file: {exc}", self.store.root, stored=self.store.path("files", f.sha256),
                                  name=f.filename)
            # one page stands for the unreadable file, so that a person sees it and can retry or key it in
            if not s.scalar(select(Page.id).where(Page.file_id == f.id).limit(1)):
                page = Page(batch_id=f.batch_id, round_id=f.round_id, file_id=f.id, index=0)
                s.add(page)
                s.flush()
                mark_page_error(s, page, f.error)
            return
        existing = {p.index for p in s.scalars(select(Page).where(Page.file_id == f.id))}
        for d in pages:
            if d["index"] in existing:  # a split redone after a crash: nothing twice
                continue
            if d["error"]:
                page = Page(batch_id=f.batch_id, round_id=f.round_id, file_id=f.id, index=d["index"])
                s.add(page)
                s.flush()
                mark_page_error(s, page, d["error"])
            else:
                s.add(Page(batch_id=f.batch_id, round_id=f.round_id, file_id=f.id, index=d["index"], image_sha256=d["sha"],
                           status="queued"))
        f.status = "split"
        self.wake.set()

    def _store_page(self, s: Session, page_id: int, out: dict[str, Any] | None, exc: BaseException | None) -> None:
        page = s.get(Page, page_id)
        if page is None or page.status != "processing":
            return  # a stale result after a lease expired and the page was handed out again
        if exc is not None or out is None:
            f = s.get(UploadedFile, page.file_id)
            error = scrub_paths(f"reading failed: {type(exc).__name__}: {exc}", self.store.root,
                                stored=self.store.path("pages", page.image_sha256 or "", ".png"), name=f.filename if f else "")
            if page.attempts < self.settings.max_attempts:
                page.status, page.error = "queued", error
            else:
                mark_page_error(s, page, error)
            return
        store_page_result(s, page, out["result"], out["aligned_sha"])
