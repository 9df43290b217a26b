"""arq worker settings: `arq app.workers.settings.WorkerSettings` (or `edgecart worker`)."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings

from app.settings import Settings
from app.workers.heartbeat import record_heartbeat

_settings = Settings.from_env()


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(_settings.redis_url)
    functions: ClassVar[list[Any]] = [record_heartbeat]
    cron_jobs: ClassVar[list[Any]] = [
        cron(record_heartbeat, second={0, 10, 20, 30, 40, 50}, run_at_startup=True)
    ]
    max_jobs = 20
    job_timeout = 60
    health_check_interval = 30
