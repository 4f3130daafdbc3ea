"""Login throttling per account and per client address, with increasing delay (OWASP ASVS 2.2.1).

Failed logins are counted in the store (``login_throttle``), so every API process of a
deployment (``serve --workers N``, several replicas) shares the same counts. A subject is
``user:<name>`` (also for names that do not exist: the answer never tells them apart) or
``addr:<client address>``. The first ``free`` failures within ``window_s`` cost nothing; each
further one locks the subject for ``base_delay_s × 2^(n-1)`` (capped at ``max_delay_s``).
While a subject is locked, logins for it answer 429 with ``Retry-After`` without checking
the password (so guessing costs the server nothing either). A successful login clears the
account's count, never the address's (an attacker's own valid account must not reset it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from store import schema

T = schema.login_throttle


@dataclass(frozen=True)
class Policy:
    free: int  # failures within the window that cost nothing
    window_s: float  # failures older than this are forgotten
    base_delay_s: float
    max_delay_s: float

    def delay_s(self, failures: int) -> float:
        over = failures - self.free
        return 0.0 if over <= 0 else min(self.max_delay_s, self.base_delay_s * 2 ** (over - 1))


@dataclass(frozen=True)
class Failure:
    subject: str
    failures: int
    locked_for_s: float


def now() -> datetime:
    return datetime.now(UTC)


def retry_after_s(conn: Connection, subjects: list[str], at: datetime | None = None) -> float:
    """Seconds until every subject may try again (0: not locked)."""
    at = at or now()
    rows = conn.execute(select(T.c.locked_until).where(T.c.subject.in_(subjects), T.c.locked_until > at)).all()
    return max([(r.locked_until - at).total_seconds() for r in rows], default=0.0)


def record_failure(conn: Connection, subject: str, policy: Policy, at: datetime | None = None) -> Failure:
    """Count one failure (atomically, also across processes) and lock the subject if due."""
    at = at or now()
    forget = at - timedelta(seconds=policy.window_s)
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(T)
    fresh = T.c.last_failed_at < forget
    conn.execute(insert.values(subject=subject, failures=1, first_failed_at=at, last_failed_at=at, locked_until=None)
                 .on_conflict_do_update(index_elements=[T.c.subject], set_={
                     "failures": case((fresh, 1), else_=T.c.failures + 1),
                     "first_failed_at": case((fresh, at), else_=T.c.first_failed_at),
                     "last_failed_at": at}))
    failures = conn.execute(select(T.c.failures).where(T.c.subject == subject)).scalar_one()
    delay = policy.delay_s(failures)
    if delay > 0:
        conn.execute(T.update().where(T.c.subject == subject).values(locked_until=at + timedelta(seconds=delay)))
    return Failure(subject, failures, delay)


def clear(conn: Connection, subject: str) -> None:
    conn.execute(delete(T).where(T.c.subject == subject))


def forget_old(conn: Connection, window_s: float, at: datetime | None = None) -> None:
    """Drop counts that can no longer lock anyone (keeps the table small)."""
    at = at or now()
    conn.execute(delete(T).where(T.c.last_failed_at < at - timedelta(seconds=window_s),
                                 (T.c.locked_until.is_(None)) | (T.c.locked_until < at)))
