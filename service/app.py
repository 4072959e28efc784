"""The FastAPI application, assembled by ``create_app(settings)``; nothing is created at import."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from omr.template import use_forms_dir
from service import openapi
from service.db import make_engine, migrate, session_factory
from service.errors import ApiError, handle_api_error, handle_validation_error
from service.guard import RequestGuard
from service.routers import agencies, auth, batches, imports, pages, print_runs, quality, results, review, rounds, status, templates, users
from service.settings import Settings
from service.storage import Store
from service.throttle import LoginThrottle
from service.warm import Warmer
from service.worker import Worker

UI_DIR = Path(__file__).resolve().parent.parent / "review_ui" / "static"


def create_app(settings: Settings) -> FastAPI:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    factory = session_factory(engine)
    store = Store(settings.data_dir)
    use_forms_dir(settings.forms_dir)  # forms made in the designer are known templates, here and in the readers
    store.sweep_tmp()  # halves of uploads a stopped server was receiving
    worker = Worker(settings, factory, store)
    warmer = Warmer(factory)  # the results page's first figures computed ahead after the data changes

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if settings.start_workers:
            worker.start()
            warmer.start()
        yield
        if settings.start_workers:
            warmer.stop()
            worker.stop()
        engine.dispose()

    app = FastAPI(
        title="omr-khaosat",
        description=openapi.DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # served from local files by openapi.install
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.factory = factory
    app.state.store = store
    app.state.worker = worker
    app.state.warmer = warmer
    app.state.wake = worker.wake.set
    app.state.login_throttle = LoginThrottle(
        max_failures=settings.login_max_failures, window=settings.login_window_seconds,
        lock=settings.login_lock_seconds, lock_max=settings.login_lock_max_seconds)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)  # echoes only a prefix of the input
    # writes are authenticated and bodies capped before any body is read (service/guard.py)
    app.add_middleware(RequestGuard, settings=settings, factory=factory)
    routers = [m.router for m in (auth, users, rounds, print_runs, imports, agencies, templates, batches, pages, review, quality, results, status)]
    for r in routers:
        app.include_router(r, responses=openapi.ERRORS)
    openapi.install(app, routers)
    if UI_DIR.is_dir():
        app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    logging.getLogger("omr").setLevel(logging.INFO)
    return app
