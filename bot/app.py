"""The web server: channels' webhooks, the simulator, the NLU endpoint, the console, /healthz."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from bot.channels import simulator
from bot.channels.base import InvalidInbound
from bot.config import Settings
from bot.db import DatabaseUnavailable, connect
from bot.db.migrate import is_current
from bot.http_guards import BodySizeLimit, invalid_inbound, unstorable_value, validation_error
from bot.inbound.acks import AcksInFlight, CountAcks, InboundWriter
from bot.inbound.decisions import DecisionWorker
from bot.privacy import routes as privacy_routes
from bot.runtime import Runtime
from bot.scheduler.jobs import start_scheduler
from flows.library import default_library
from flows.texts import default_texts
from nlu import api as nlu_api
from nlu.parser import build_parser


def build_runtime(settings: Settings) -> Runtime:
    """Connect the database, load the guides and the NLU model, register the senders."""
    runtime = Runtime(
        settings=settings,
        db=connect(settings.database_url),
        parser=build_parser(settings.nlu),
        library=default_library(),
        texts=default_texts(),
    )
    runtime.senders[simulator.PROVIDER] = simulator.SimulatorSender()
    if settings.twilio.configured:
        from bot.channels import twilio_sms

        runtime.senders[twilio_sms.PROVIDER] = twilio_sms.TwilioSender(settings.twilio, settings.public_url)
    if settings.telegram.configured:
        from bot.channels import telegram

        runtime.senders[telegram.PROVIDER] = telegram.TelegramSender(settings.telegram)
    return runtime


_frozen = threading.Event()


def _freeze_startup_objects() -> None:
    """What start-up built (guides, NLU model, SQLAlchemy mappers) lives as long as the process: frozen, the
    garbage collector stops walking it, which removed pauses of 100+ ms from webhook answers. Once per process."""
    if not _frozen.is_set():
        _frozen.set()
        gc.collect()
        gc.freeze()


def create_app(settings: Settings, runtime: Runtime | None = None, *, background_jobs: bool = True,
               decide_in_background: bool | None = None) -> FastAPI:
    """The ASGI app. ``background_jobs`` runs the scheduler (outbox dispatch...) while it serves.

    ``decide_in_background`` (default: as ``background_jobs``) runs the decision worker: webhooks
    answer once the message is stored and the engine runs right after (bot/inbound/decisions.py). Without
    it a webhook decides before answering, as tests expect.
    """
    runtime = runtime or build_runtime(settings)
    if decide_in_background is None:
        decide_in_background = background_jobs

    acks = AcksInFlight()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _freeze_startup_objects()
        app.state.writer = InboundWriter(runtime).start()
        app.state.decisions = DecisionWorker(runtime, acks=acks).start() if decide_in_background else None
        scheduler = start_scheduler(runtime) if background_jobs else None
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        app.state.writer.stop()
        if app.state.decisions is not None:
            app.state.decisions.stop()
        runtime.db.dispose()

    app = FastAPI(title="Relais", version="0.1.0", lifespan=lifespan,
                  description="Help desk over SMS and messaging for digital-inclusion teams.")
    app.state.runtime = runtime
    # Anyone can reach the webhooks: oversized or undecodable bodies get a 4xx, never a crash.
    app.add_middleware(BodySizeLimit)
    if settings.twilio.auth_token:  # valid signed SMS answered before FastAPI's layers (bot/channels/twilio_sms.py)
        from bot.channels.twilio_sms import InboundSmsFastPath

        app.add_middleware(InboundSmsFastPath)
    app.add_middleware(CountAcks, counter=acks)  # the decision worker yields to webhooks being answered
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(InvalidInbound, invalid_inbound)
    app.add_exception_handler(DataError, unstorable_value)
    app.add_exception_handler(OverflowError, unstorable_value)  # SQLite's way of refusing a huge integer

    @app.exception_handler(DatabaseUnavailable)
    async def database_down(_request: object, exc: DatabaseUnavailable) -> JSONResponse:
        # Providers retry on 5xx: nothing is lost while the database restarts.
        return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503,
                            headers={"Retry-After": "5"})

    app.state.parser = runtime.parser
    app.include_router(simulator.router)
    app.include_router(nlu_api.router)
    app.include_router(privacy_routes.router)
    app.include_router(privacy_routes.console_router)
    from bot.console.routes import install as install_console

    install_console(app)
    if settings.twilio.auth_token:
        from bot.channels import twilio_sms

        app.include_router(twilio_sms.router)
    if settings.telegram.webhook_secret:
        from bot.channels import telegram

        app.include_router(telegram.router)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        """200 when the database answers and its schema is current; 503 with the reason otherwise."""
        try:
            runtime.db.ping()
            current = is_current(runtime.db)
        except DatabaseUnavailable as exc:
            return JSONResponse({"status": "unavailable", "database": f"unreachable: {exc}"}, status_code=503)
        if not current:
            return JSONResponse(
                {"status": "unavailable", "database": "migrations pending: run `relais db upgrade`"},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
