"""arq worker settings: `arq app.workers.settings.WorkerSettings` (or `edgecart worker`)."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron
from arq.connections import RedisSettings

from app.cart.tasks import delete_stale_carts
from app.inventory.tasks import release_expired_reservations
from app.orders.tasks import cancel_expired_orders
from app.payments.tasks import reconcile_payments
from app.settings import Settings
from app.workers.context import shutdown, startup
from app.workers.heartbeat import record_heartbeat
from app.workers.relay import JOBS_BY_KIND, relay_outbox

_settings = Settings.from_env()
EVERY_SECOND = set(range(60))


class WorkerSettings:
    redis_settings = RedisSettings.from_dsn(_settings.redis_url)
    on_startup = startup
    on_shutdown = shutdown
    functions: ClassVar[list[Any]] = [
        record_heartbeat, relay_outbox, release_expired_reservations, delete_stale_carts,
        cancel_expired_orders, reconcile_payments,
        *JOBS_BY_KIND.values(),
    ]  # fmt: skip
    cron_jobs: ClassVar[list[Any]] = [
        cron(record_heartbeat, second={0, 10, 20, 30, 40, 50}, run_at_startup=True),
        # Every second, so mail leaves about a second after the commit that queued it. Cron
        # jobs are unique per tick: with several workers, one of them relays each second.
        cron(relay_outbox, second=EVERY_SECOND, run_at_startup=True, timeout=30),
        # Held stock of unpaid orders goes back on sale within a few seconds of expiring.
        cron(release_expired_reservations, second={5, 20, 35, 50}),
        # Unpaid orders past their reservation are cancelled (and their stock released).
        cron(cancel_expired_orders, second={10, 40}),
        # Card attempts left unsettled are looked up at the provider: paid, or closed and
        # cancelled (docs/payments.md). A provider that is down means: try again next minute.
        cron(reconcile_payments, second={25}, timeout=300),
        cron(delete_stale_carts, hour={3}, minute={17}),
    ]
    # How often an idle worker looks for queued jobs (arq's default is 0.5 s): a purge has a
    # second from commit to fresh page, and the relay hands it over within milliseconds.
    poll_delay = 0.1
    max_jobs = 20
    job_timeout = 60
    health_check_interval = 30
