"""``ApiSettings``: the API deployable's one settings object (env prefix ``LINEWATCH_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from runtime.settings import LineWatchSettings

PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "dev", "development", "linewatch"}


class ApiSettings(LineWatchSettings):
    """API settings. ``token_pepper`` keys the HMAC under which tokens and API keys are
    stored; outside ``development`` a placeholder or short value is refused."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    token_pepper: SecretStr = Field(default=SecretStr("development"),
                                    description="LINEWATCH_TOKEN_PEPPER: 32+ random characters in production")
    token_ttl_s: int = Field(default=12 * 3600, ge=60, description="Absolute lifetime of a login token.")
    session_idle_s: int = Field(default=30 * 60, ge=60, description="A login token unused this long expires.")
    login_account_free_failures: int = Field(default=5, ge=1, description="Failed logins per account before delays.")
    login_address_free_failures: int = Field(default=20, ge=1,
                                             description="Failed logins per client address before delays.")
    login_window_s: float = Field(default=900.0, gt=0, description="Failed logins older than this are forgotten.")
    login_base_delay_s: float = Field(default=1.0, gt=0, description="First lock; doubles with each further failure.")
    login_max_delay_s: float = Field(default=900.0, gt=0, description="Longest lock after failed logins.")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="Origins allowed to call the API from a browser (CORS); empty = off.")
    escalate_after_s: float = Field(default=900.0, gt=0, description="Unacknowledged this long -> escalate.")
    escalation_max_level: int = Field(default=3, ge=1, le=10)
    background_interval_s: float = Field(default=5.0, gt=0, description="Escalation/shelve/webhook check period.")
    max_shelve_s: float = Field(default=8 * 3600.0, gt=0, description="Longest an operator may shelve an alert.")
    webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    webhook_backoff_s: float = Field(default=2.0, gt=0, description="First retry delay; doubles per attempt.")
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    stream_poll_s: float = Field(default=1.0, gt=0, description="How often /stream looks for new rows.")
    shutdown_grace_s: float = Field(default=5.0, gt=0, le=300,
                                    description="On SIGTERM, requests still open after this long (live streams "
                                                "never end by themselves) are cut and the server exits.")
    read_cache_s: float = Field(default=1.0, ge=0, le=60,
                                description="GET /plant and GET /alerts answers are reused within a process for "
                                            "this long (0 = off); a write through the same process clears them.")
    auth_cache_s: float = Field(default=1.0, ge=0, le=60,
                                description="A valid token or API key is remembered within a process for this long "
                                            "(0 = check the store on every request); a local write forgets them all.")
    check_broker: bool = Field(default=True, description="/readyz also checks the Kafka broker.")
    pilot_report_path: Path | None = Field(default=Path("var/pilot/latest.json"),
                                            description="JSON report written by `linewatch pilot` (its default place).")
    ui_dir: Path = Field(default=Path(__file__).resolve().parent / "ui")
    background_tasks: bool = Field(default=True, description="Run escalation and webhook delivery in-process.")

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> ApiSettings:
        if self.environment != "development":
            pepper = self.token_pepper.get_secret_value()
            if pepper.lower() in PLACEHOLDERS or len(pepper) < 32:
                raise ValueError("LINEWATCH_TOKEN_PEPPER must be set to 32+ random characters outside development "
                                 "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return self
