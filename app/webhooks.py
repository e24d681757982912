"""Signed completion callbacks: POST a JSON body with an HMAC-SHA256 signature, retried with backoff."""

import hashlib
import hmac
import json
import logging
import time

import httpx
from sqlalchemy import update

from app.db import session_scope
from app.services.runs import run_links
from app.settings import get_settings
from models import Run

log = logging.getLogger("jiedui.webhooks")
SIGNATURE_HEADER = "X-Jiedui-Signature"
TIMEOUT_S = 10.0  # per attempt


def delivery_seconds() -> float:
    """The longest one delivery takes under the configured retry schedule: every attempt times out, every backoff
    is slept, plus a little for recording the outcome."""
    settings = get_settings()
    attempts = settings.webhook_max_attempts
    return attempts * TIMEOUT_S + settings.webhook_backoff_seconds * ((1 << max(attempts - 1, 0)) - 1) + 5.0


def sign(body: bytes, secret: str, timestamp: str) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(body: bytes, secret: str, timestamp: str, signature: str) -> bool:
    """Constant-time check of a received signature."""
    return hmac.compare_digest(sign(body, secret, timestamp), signature)


def deliver_for_run(run_id: str) -> None:
    """Send the completion callback of a finished run (its own URL, else the service's), retrying with backoff."""
    settings = get_settings()
    with session_scope() as session:
        run = session.get(Run, run_id)
        if run is None:
            return
        url = run.callback_url or settings.webhook_url
        if not url:
            return
        result = run.result or {}
        payload = {
            "event": "run.finished", "run_id": run.id, "state": run.state, "season": run.season,
            "error": run.error, "coverage": result.get("coverage"), "gap": result.get("gap"),
            "solve_seconds": run.solve_seconds, "links": run_links(run.id),
        }
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    delay = settings.webhook_backoff_seconds
    error = None
    for attempt in range(1, settings.webhook_max_attempts + 1):
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Jiedui-Timestamp": timestamp,
                   SIGNATURE_HEADER: sign(body, settings.webhook_secret, timestamp), "X-Jiedui-Attempt": str(attempt)}
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S)
            if response.status_code < 300:
                _record(run_id, "delivered", attempt, None)
                return
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        _record(run_id, "retrying", attempt, error)
        if attempt < settings.webhook_max_attempts:
            time.sleep(delay)
            delay *= 2
    _record(run_id, "failed", settings.webhook_max_attempts, error)
    log.warning("webhook for run %s failed after retries: %s", run_id, error)


def _record(run_id: str, state: str, attempts: int, error: str | None) -> None:
    with session_scope() as session:
        session.execute(update(Run).where(Run.id == run_id)
                        .values(webhook_state=state, webhook_attempts=attempts, webhook_error=error))
