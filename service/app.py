"""The FastAPI application, assembled by ``create_app(settings)``; nothing is created at import."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from service.db import make_engine, migrate, session_factory
from service.errors import ApiError, handle_api_error
from service.routers import auth, batches, pages, results, review, rounds, templates
from service.settings import Settings
from service.storage import Store
from service.worker import Worker

UI_DIR = Path(__file__).resolve().parent.parent / "review_ui" / "static"


def create_app(settings: Settings) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    factory = session_factory(engine)
    store = Store(settings.data_dir)
    worker = Worker(settings, factory, store)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if settings.start_workers:
            worker.start()
        yield
        if settings.start_workers:
            worker.stop()
        engine.dispose()

    app = FastAPI(
        title="omr-khaosat",
        description="Đọc phiếu khảo sát sự hài lòng: đợt khảo sát, lô phiếu quét, duyệt, chỉ số. See docs/api.md.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.factory = factory
    app.state.store = store
    app.state.worker = worker
    app.state.wake = worker.wake.set
    app.add_exception_handler(ApiError, handle_api_error)
    for r in (auth, rounds, templates, batches, pages, review, results):
        app.include_router(r.router)
    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    logging.getLogger("omr").setLevel(logging.INFO)
    return app
