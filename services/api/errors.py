"""Global exception handlers: bad input is a 4xx with a message, never a 500 or a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from contracts.errors import BrokerError, ConfigError, ContractError, LineWatchError
from contracts.validation import validation_lines
from store.errors import (
    Conflict,
    DataError,
    IntegrityError,
    Invalid,
    NotFound,
    OperationalError,
    RecordError,
    SQLAlchemyError,
    StoreError,
)

log = logging.getLogger("linewatch.api")


# What each refusal of the store's records means over HTTP (the most specific class wins).
RECORD_STATUS: dict[type[RecordError], int] = {NotFound: 404, Conflict: 409, Invalid: 400}


def record_status(exc: RecordError) -> int:
    return next((status for cls, status in RECORD_STATUS.items() if isinstance(exc, cls)), 400)


def _body(message: str, **extra: object) -> dict[str, object]:
    return {"detail": message, **extra}


def _validation_text(exc: RequestValidationError) -> str:
    # FastAPI's locations start with where the value came from: query.limit, body.password ("body" left out)
    return "; ".join(validation_lines(exc.errors(), skip=("body",))) or "invalid request"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``; store errors also count in the metrics."""

    def store_error(request: Request) -> None:
        request.app.state.ctx.metrics.store_errors.inc()  # the app's metrics live on its AppContext

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg")), "type": e.get("type")}
                  for e in exc.errors()[:20]]
        return JSONResponse(status_code=422, content=_body(_validation_text(exc), errors=errors))

    @app.exception_handler(RecordError)
    async def _record(_: Request, exc: RecordError) -> JSONResponse:
        return JSONResponse(status_code=record_status(exc), content=_body(str(exc)))

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        return JSONResponse(status_code=409,
                            content=_body("conflicts with existing data (duplicate or missing reference)"))

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        first_line = f"value not accepted by the store: {exc.orig}".splitlines()[0]
        return JSONResponse(status_code=400, content=_body(first_line))

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        store_error(request)
        log.warning("store unavailable: %s", exc)
        return JSONResponse(status_code=503, content=_body("store unavailable, try again"),
                            headers={"Retry-After": "5"})

    @app.exception_handler(SQLAlchemyError)
    async def _store(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        store_error(request)
        log.exception("store error")
        return JSONResponse(status_code=503, content=_body("store error"), headers={"Retry-After": "5"})

    @app.exception_handler(ConfigError)
    @app.exception_handler(ContractError)
    async def _input(_: Request, exc: LineWatchError) -> JSONResponse:
        return JSONResponse(status_code=400, content=_body(str(exc)))

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> JSONResponse:
        store_error(request)
        log.warning("store error: %s", exc)
        return JSONResponse(status_code=503, content=_body(str(exc)), headers={"Retry-After": "5"})

    @app.exception_handler(BrokerError)
    async def _broker_down(_: Request, exc: BrokerError) -> JSONResponse:
        return JSONResponse(status_code=503, content=_body(str(exc)), headers={"Retry-After": "5"})

    # Starlette picks the handler of the nearest class in the exception's MRO, so the
    # subclasses above win over this catch-all for the project's own errors.
    @app.exception_handler(LineWatchError)
    async def _linewatch(_: Request, exc: LineWatchError) -> JSONResponse:
        return JSONResponse(status_code=400, content=_body(str(exc)))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content=_body(str(exc.detail)), headers=exc.headers)
