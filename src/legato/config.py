"""One settings object. Each field is also a `LEGATO_<FIELD>` environment variable and a CLI flag."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEGATO_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="HTTP port.")
    db: str = Field(
        default="sqlite:///./legato.db",
        description="Database URL: sqlite:///path.db (default) or postgresql://...",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description="NORMAL survives any process crash; FULL also survives power loss.",
    )
    max_payload_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    script_time_limit_s: float = Field(
        default=4.0, gt=0, description="Time limit of one JavaScript evaluation."
    )
    script_memory_mb: int = Field(
        default=64, ge=8, description="Memory cap of the JavaScript sandbox."
    )
    timer_interval_ms: int = Field(
        default=200, ge=10, description="How often the timer loop looks for due timers."
    )
    system_task_workers: int = Field(
        default=8, ge=1, description="Concurrent async system tasks (HTTP, ...) per node."
    )
    pg_pool_size: int = Field(
        default=4,
        ge=1,
        description="PostgreSQL connections per node (about the database's cores: more"
        " connections than cores only contend).",
    )
    log_level: str = Field(default="info", description="Log level of the server.")
