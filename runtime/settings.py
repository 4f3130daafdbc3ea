"""Base settings for LineWatch deployables: env prefix ``LINEWATCH_``, nesting with ``__``.

Built in ``main()`` / ``create_app(settings)``, never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.settings import KafkaSettings, StoreSettings
from runtime.consumer import ConsumeOptions


class LineWatchSettings(BaseSettings):
    """Settings every deployable shares; each one may subclass and add its own section."""

    # An empty variable counts as unset (compose passes ``${VAR:-}`` through as ""), so optional
    # settings such as LINEWATCH_KAFKA__SASL_MECHANISM can be wired without a value.
    model_config = SettingsConfigDict(env_prefix="LINEWATCH_", env_nested_delimiter="__", extra="ignore",
                                      env_ignore_empty=True)

    environment: str = Field(default="development", description="development, test or production")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    consume: ConsumeOptions = Field(default_factory=ConsumeOptions,
                                    description="Poison-record limits of every consume loop (docs/kafka.md).")
    plant_file: Path = Field(default=Path(__file__).resolve().parent.parent / "simulators" / "plants" / "demo.yaml")
    registry_dir: Path = Path("var/registry")
    data_dir: Path = Path("var")
