"""What every job finds in arq's ctx: the settings, a database sessionmaker, mail templates."""

from __future__ import annotations

from typing import Any

from app import db
from app.notifications.rendering import create_environment
from app.settings import Settings


async def open_context(ctx: dict[str, Any], settings: Settings) -> None:
    engine = db.create_engine(settings)
    ctx["settings"] = settings
    ctx["engine"] = engine
    ctx["sessionmaker"] = db.create_sessionmaker(engine)
    ctx["mail_templates"] = create_environment(settings)


async def close_context(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


async def startup(ctx: dict[str, Any]) -> None:
    from app.workers.wakeup import start_wakeup  # the relay imports every job module

    await open_context(ctx, Settings.from_env())
    start_wakeup(ctx)


async def shutdown(ctx: dict[str, Any]) -> None:
    from app.workers.wakeup import stop_wakeup

    await stop_wakeup(ctx)
    await close_context(ctx)
