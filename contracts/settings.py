"""Settings pieces shared by every deployable (each deployable composes its own Settings).

Environment variables use the prefix ``LINEWATCH_`` and ``__`` for nesting, for example
``LINEWATCH_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:9092``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class KafkaSettings(BaseModel):
    """How to reach Kafka, including TLS and SASL: the one place every client's security comes from.

    Environment (prefix ``LINEWATCH_KAFKA__``): ``SECURITY_PROTOCOL`` (PLAINTEXT, SSL,
    SASL_PLAINTEXT, SASL_SSL), ``SASL_MECHANISM`` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512,
    OAUTHBEARER), ``SASL_USERNAME``, ``SASL_PASSWORD`` or ``SASL_PASSWORD_FILE`` (a mounted
    secret; there is no default password), ``SSL_CAFILE``, ``SSL_CERTFILE`` + ``SSL_KEYFILE``
    (mutual TLS, PEM), ``SSL_KEY_PASSWORD``, ``SSL_CHECK_HOSTNAME``. ``client_kwargs()`` maps
    them to kafka-python's names, ``librdkafka_config()`` to librdkafka's (confluent-kafka).
    """

    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = Field(default="127.0.0.1:9092", min_length=3)
    client_id: str = "linewatch"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = Field(
        default=None, description="File holding the SASL password (e.g. /run/secrets/kafka-password); "
                                  "read at start, trailing newline stripped. Exclusive with sasl_password.")
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    topic_partitions: int = Field(default=6, ge=1, description="Partitions when LineWatch creates a topic.")
    request_timeout_ms: int = Field(default=30_000, ge=1000)
    bootstrap_timeout_ms: int | None = Field(
        default=None, ge=1000, description="How long a kafka-python client tries to reach a broker before it "
                                           "gives up (library default when unset: 30 s).")
    transport: Literal["kafka-python", "confluent"] = Field(
        default="kafka-python", description="Client library of the consume loop and producers (runtime/transport.py).")

    @model_validator(mode="after")
    def _security_complete(self) -> KafkaSettings:
        if self.sasl_password_file is not None:
            if self.sasl_password is not None:
                raise ValueError("set sasl_password or sasl_password_file, not both")
            try:
                secret = self.sasl_password_file.read_text().rstrip("\r\n")
            except OSError as exc:
                raise ValueError(f"sasl_password_file {self.sasl_password_file}: {exc.strerror}") from None
            if not secret:
                raise ValueError(f"sasl_password_file {self.sasl_password_file} is empty")
            self.sasl_password = SecretStr(secret)
        uses_sasl = self.security_protocol.startswith("SASL")
        uses_tls = self.security_protocol.endswith("SSL")
        if uses_sasl and self.sasl_mechanism is None:
            raise ValueError("security_protocol SASL_* needs sasl_mechanism")
        if not uses_sasl and (self.sasl_mechanism or self.sasl_username or self.sasl_password is not None):
            raise ValueError(f"SASL settings are given but security_protocol is {self.security_protocol}: "
                             "use SASL_SSL (or SASL_PLAINTEXT)")
        if self.sasl_mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") and (
            not self.sasl_username or self.sasl_password is None
        ):
            raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs sasl_username and sasl_password")
        tls_files = [n for n in ("ssl_cafile", "ssl_certfile", "ssl_keyfile") if getattr(self, n)]
        if tls_files and not uses_tls:
            raise ValueError(f"{', '.join(tls_files)} given but security_protocol is {self.security_protocol}: "
                             "use SSL or SASL_SSL")
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("ssl_certfile and ssl_keyfile go together (mutual TLS)")
        return self

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients."""
        kw: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.bootstrap_timeout_ms is not None:
            kw["bootstrap_timeout_ms"] = self.bootstrap_timeout_ms
        if self.sasl_mechanism:
            kw["sasl_mechanism"] = self.sasl_mechanism
            if self.sasl_username:
                kw["sasl_plain_username"] = self.sasl_username
            if self.sasl_password is not None:
                kw["sasl_plain_password"] = self.sasl_password.get_secret_value()
        if self.security_protocol.endswith("SSL"):
            kw["ssl_check_hostname"] = self.ssl_check_hostname
            for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
                if getattr(self, name):
                    kw[name] = getattr(self, name)
            if self.ssl_key_password is not None:
                kw["ssl_password"] = self.ssl_key_password.get_secret_value()
        return kw

    def librdkafka_config(self) -> dict[str, str]:
        """The same connection and security settings under librdkafka's names (confluent-kafka)."""
        conf: dict[str, str] = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
            if self.sasl_username:
                conf["sasl.username"] = self.sasl_username
            if self.sasl_password is not None:
                conf["sasl.password"] = self.sasl_password.get_secret_value()
        if self.security_protocol.endswith("SSL"):
            conf["ssl.endpoint.identification.algorithm"] = "https" if self.ssl_check_hostname else "none"
            for ours, theirs in (("ssl_cafile", "ssl.ca.location"), ("ssl_certfile", "ssl.certificate.location"),
                                 ("ssl_keyfile", "ssl.key.location")):
                if getattr(self, ours):
                    conf[theirs] = getattr(self, ours)
            if self.ssl_key_password is not None:
                conf["ssl.key.password"] = self.ssl_key_password.get_secret_value()
        return conf


class StoreSettings(BaseModel):
    """Where the store lives: SQLite (embedded default) or PostgreSQL."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="sqlite:///var/linewatch.db",
                     description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db")
    password: SecretStr | None = Field(default=None, description="Kept out of the URL; from the environment.")
