"""Service settings: one dataclass, built from arguments or the environment; nothing global."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("omr-data")
    database_url: str = ""  # default: SQLite in data_dir
    workers: int = 2  # page-reading processes
    max_file_mb: int = 300  # one uploaded file
    max_batch_mb: int = 2048  # one upload (every file of a batch together), counted while it streams in
    max_files: int = 1000
    max_json_kb: int = 1024  # any request body that is not an upload (JSON): 413 beyond it
    allowed_suffixes: tuple[str, ...] = (".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png")
    claim_seconds: int = 300  # how long a review item stays with the reviewer who opened it
    lease_seconds: int = 300  # how long a worker may hold a page before it is retried
    max_attempts: int = 3  # a page that crashed its worker this often is marked as an error
    ocr: bool = True
    start_workers: bool = True  # tests that only read may run without the background worker
    session_secret: str = field(default_factory=lambda: os.environ.get("OMR_SESSION_SECRET", ""))
    session_hours: float = 12.0  # a browser sign-in ends this long after it began (absolute, not sliding)
    # mark the session cookie Secure (sent over HTTPS only): set when the service is behind HTTPS
    cookie_secure: bool = field(default_factory=lambda: os.environ.get("OMR_COOKIE_SECURE", "") == "1")
    # login throttle (in memory, per server process): this many wrong logins within login_window_seconds
    # lock the address (and the name, for the addresses that tried it) for login_lock_seconds, doubling
    # with every further lock up to login_lock_max_seconds
    login_max_failures: int = 5
    login_window_seconds: float = 300.0
    login_lock_seconds: float = 30.0
    login_lock_max_seconds: float = 900.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @property
    def forms_dir(self) -> Path:
        """Forms made or imported in the browser, as YAML: ``<id>.yaml`` (latest) and ``versions/<id>/<n>.yaml``.
        ``OMR_TEMPLATE_PATH=<this folder> omr scan …`` reads them outside the service."""
        return (self.data_dir / "forms").resolve()

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'omr.sqlite').resolve()}"

    @classmethod
    def from_env(cls, **over) -> "Settings":
        env = {}
        if os.environ.get("DATABASE_URL"):
            env["database_url"] = os.environ["DATABASE_URL"]
        if os.environ.get("OMR_DATA_DIR"):
            env["data_dir"] = Path(os.environ["OMR_DATA_DIR"])
        if os.environ.get("OMR_WORKERS"):
            env["workers"] = int(os.environ["OMR_WORKERS"])
        for var, key, kind in (("OMR_MAX_FILE_MB", "max_file_mb", int), ("OMR_MAX_BATCH_MB", "max_batch_mb", int),
                               ("OMR_SESSION_HOURS", "session_hours", float)):
            if os.environ.get(var):
                env[key] = kind(os.environ[var])
        env.update({k: v for k, v in over.items() if v is not None})
        if "data_dir" in env:
            env["data_dir"] = Path(env["data_dir"])
        return cls(**env)
