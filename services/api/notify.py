"""Background work of the API: escalation, shelve expiry, webhook notifications.

One ``tick`` does everything due and is safe to run from several API processes at once:
escalation updates are conditional on the old level, and delivery ids are deterministic.
Webhook bodies are signed: ``X-LineWatch-Signature: sha256=HMAC(secret, ts + "." + body)``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.api.context import AppContext
from store import Connection
from store.credentials import sign
from store.lifecycle import SILENT_STATES
from store.repos import alerts as alerts_repo
from store.repos import webhooks as hooks

log = logging.getLogger("linewatch.api.notify")
ALERT_FIELDS = ("alert_id", "machine_id", "line_id", "mode", "priority", "probability", "rul_hours", "state",
                "message_en", "message_zh", "recommended_action", "raised_at", "escalation_level", "assigned_to",
                "outcome", "failure_mode", "resolved_by")


def payload(event: str, alert: dict[str, Any]) -> dict[str, Any]:
    body = {k: alert.get(k) for k in ALERT_FIELDS}
    body = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in body.items()}
    return {"event": event, "sent_at": datetime.now(UTC).isoformat(), "alert": body}


def enqueue(conn: Connection, event: str, alert: dict[str, Any]) -> int:
    return hooks.enqueue(conn, event, alert, payload(event, alert))


class Notifier:
    """Runs ``tick`` every ``background_interval_s`` while the app is up."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        # alerts changed in the last hour before start still get their "raised" notification
        self.cursor = datetime.now(UTC) - timedelta(hours=1)
        self.client = httpx.Client(timeout=ctx.settings.webhook_timeout_s, follow_redirects=False)

    def scan(self) -> dict[str, int]:
        """Escalate, expire shelves and queue notifications (one transaction)."""
        s = self.ctx.settings
        with self.ctx.write() as conn:
            escalated = alerts_repo.escalate_due(conn, s.escalate_after_s, s.escalation_max_level)
            for alert in escalated:
                enqueue(conn, "alert.escalated", alert)
            expired = alerts_repo.expire_shelves(conn)
            changed = alerts_repo.changed_since(conn, self.cursor)
            for alert in changed:
                if alert["state"] not in SILENT_STATES:
                    enqueue(conn, "alert.raised", alert | {"escalation_level": 0})
            if changed:
                self.cursor = changed[-1]["changed_at"] - timedelta(seconds=1)  # overlap: ids dedupe
        self.ctx.metrics.escalations.inc(len(escalated))
        return {"escalated": len(escalated), "shelves_expired": len(expired)}

    def deliver(self) -> int:
        """Attempt every due delivery once; returns deliveries that succeeded."""
        s, ok_count = self.ctx.settings, 0
        with self.ctx.read() as conn:
            due = hooks.due(conn)
        for d in due:
            body = json.dumps(d["payload"], ensure_ascii=False, separators=(",", ":")).encode()
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", "X-LineWatch-Event": d["event"],
                       "X-LineWatch-Delivery": d["delivery_id"], "X-LineWatch-Timestamp": ts,
                       "X-LineWatch-Signature": sign(d["secret"], ts, body), "User-Agent": "LineWatch-Webhook/1"}
            try:
                resp = self.client.post(d["url"], content=body, headers=headers)
                ok, error = resp.is_success, None if resp.is_success else f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
            with self.ctx.write() as conn:
                status = hooks.mark(conn, d, ok, error, s.webhook_max_attempts, s.webhook_backoff_s)
            self.ctx.metrics.webhook_deliveries.labels("delivered" if ok else status).inc()
            ok_count += ok
        return ok_count

    def tick(self) -> None:
        self.scan()
        self.deliver()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # a failed tick is logged and retried, never kills the app
                log.exception("background tick failed")
                self.ctx.metrics.store_errors.inc()
            await asyncio.sleep(self.ctx.settings.background_interval_s)

    def close(self) -> None:
        self.client.close()
