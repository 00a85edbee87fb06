"""The one configuration file: defaults in `pipelines/config.toml`, overridable with `--config`.

An override file holds only what it changes: tables merge key by key, lists and values replace.
Everything is checked at start-up, so a misspelt key or a wrong type stops the run before any
file is read, with a message naming the key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_CONFIG_PATH = Path(__file__).with_name("config.toml")

REGISTRY_REQUIRED = ("name", "id_number", "county", "township", "village", "category")
ROSTER_REQUIRED = ("roster_person_no", "name", "id_number", "scheme", "status")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegistryHeaders(_Strict):
    name: list[str]
    id_number: list[str]
    person_key: list[str]
    household_key: list[str]
    sex: list[str]
    birth_date: list[str]
    county: list[str]
    township: list[str]
    village: list[str]
    region_code: list[str]
    category: list[str]
    poverty_exit: list[str]
    student: list[str]
    person_state: list[str]


class RosterHeaders(_Strict):
    roster_person_no: list[str]
    name: list[str]
    id_number: list[str]
    scheme: list[str]
    status: list[str]
    region: list[str]
    enrolled_on: list[str]


class IgnoredHeaders(_Strict):
    columns: list[str]


class Headers(_Strict):
    registry: RegistryHeaders
    roster: RosterHeaders
    ignored: IgnoredHeaders


class StudentValues(_Strict):
    not_student: list[str]


class PersonStateValues(_Strict):
    allowed: list[str]


class Schemes(_Strict):
    pension: list[str] = Field(min_length=1)
    medical: list[str] = Field(min_length=1)


class Values(_Strict):
    categories: dict[str, list[str]]
    poverty_exit: dict[str, str]
    student: StudentValues
    person_state: PersonStateValues
    sex: dict[str, Literal["男", "女"]]
    schemes: Schemes


class Statuses(_Strict):
    enrolled: list[str] = Field(min_length=1)
    suspended: list[str]
    terminated: list[str]
    receiving: list[str]

    @model_validator(mode="after")
    def _groups_are_disjoint(self) -> Statuses:
        if not_enrolled := set(self.receiving) - set(self.enrolled) - set(self.suspended):
            raise ValueError(f"receiving 中的状态必须也在 enrolled 或 suspended 中：{not_enrolled}")
        groups = {
            "enrolled": self.enrolled,
            "suspended": self.suspended,
            "terminated": self.terminated,
        }
        seen: dict[str, str] = {}
        for group, values in groups.items():
            for value in values:
                if value in seen:
                    raise ValueError(f"状态 '{value}' 同时出现在 {seen[value]} 和 {group} 中")
                seen[value] = group
        return self

    def known(self) -> list[str]:
        return [*self.enrolled, *self.suspended, *self.terminated]


class Ages(_Strict):
    pension_min_age: int = Field(ge=0, le=100)
    pension_benefit_age: int = Field(ge=0, le=100)


class Exemptions(_Strict):
    student: str
    person_state: list[str]
    medical_excluded_states: list[str]


class RouteWeights(_Strict):
    exact_id: float = Field(gt=0, le=1)
    upgraded_id: float = Field(gt=0, le=1)
    id_prefix: float = Field(gt=0, le=1)
    near_miss_id: float = Field(gt=0, le=1)
    no_usable_id: float = Field(gt=0, le=1)
    name_only: float = Field(gt=0, le=1)


class DigitsFitShare(_Strict):
    id_prefix: float = Field(gt=0, le=1)
    near_miss_id: float = Field(gt=0, le=1)


class Matching(_Strict):
    auto_match: float = Field(gt=0, le=1)
    review: float = Field(gt=0, le=1)
    same_name: float = Field(gt=0, le=1)
    common_name_penalty: float = Field(ge=0, lt=1)
    common_name_penalty_with_id: float = Field(ge=0, lt=1)
    no_id_max_expected_namesakes: float = Field(ge=0)
    damaged_id_max_expected_namesakes: float = Field(ge=0)
    birth_disagrees: float = Field(ge=0, le=1)
    sex_disagrees: float = Field(ge=0, le=1)
    place_disagrees: float = Field(ge=0, le=1)
    damaged_id_digits_fit_share: DigitsFitShare
    route_weights: RouteWeights

    @model_validator(mode="after")
    def _review_below_auto(self) -> Matching:
        if self.review > self.auto_match:
            raise ValueError("review 阈值不能高于 auto_match")
        return self


class Subsidy(_Strict):
    kind: Literal["full", "fixed", "share"]
    amount: float | None = Field(default=None, ge=0)
    share: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _has_its_number(self) -> Subsidy:
        if self.kind == "fixed" and self.amount is None:
            raise ValueError("kind = 'fixed' 需要 amount")
        if self.kind == "share" and self.share is None:
            raise ValueError("kind = 'share' 需要 share")
        return self


class PensionMoney(_Strict):
    daijiao_tier: dict[int, float]
    daijiao_categories: list[str]


class MedicalMoney(_Strict):
    individual_contribution: dict[int, float]
    subsidy: dict[int, dict[str, Subsidy]]


class Money(_Strict):
    pension: PensionMoney
    medical: MedicalMoney


class RunSettings(_Strict):
    chunk_rows: int = Field(ge=1000)
    stage_workers: int = Field(ge=1)
    stage_parallel_min_bytes: int = Field(ge=0)
    duckdb_memory_limit: str
    score_batch_pairs: int = Field(ge=1000)
    work_dir: Path
    backups_keep: int = Field(ge=0)
    dask_partitions: int = Field(ge=1)
    dask_address: str
    dask_local_workers: int = Field(ge=1)


class ReportSettings(_Strict):
    mask_ids: bool
    workers: int = Field(ge=1)
    parallel_min_rows: int = Field(ge=0)


class Schedule(_Strict):
    """When `make serve` runs the nightly flow, and on which folders (config.toml [schedule])."""

    cron: str = Field(pattern=r"^\S+( \S+){4}$")
    timezone: str
    input: Path
    ledger: Path
    reports: Path

    @model_validator(mode="after")
    def _known_timezone(self) -> Schedule:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"不认识的时区 '{self.timezone}'（应为 Asia/Shanghai 这样的名称）"
            ) from None
        return self


class Config(_Strict):
    headers: Headers
    values: Values
    statuses: Statuses
    ages: Ages
    exemptions: Exemptions
    matching: Matching
    money: Money
    reports: ReportSettings
    run: RunSettings
    schedule: Schedule

    def fingerprint(self) -> str:
        """SHA-256 of the effective configuration, recorded with every run. The schedule is left
        out: when a run happens does not change what it finds."""
        settings = self.model_dump(mode="json", exclude={"schedule"})
        text = json.dumps(settings, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in the override replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"找不到配置文件 {path}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"配置文件 {path} 格式错误：{error}") from error


def _describe(error: ValidationError, path: Path) -> str:
    lines = [f"配置文件 {path} 有误："]
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"])
        lines.append(f"  键 {key}：{problem['msg']}")
    return "\n".join(lines)


def load_config(override_path: Path | None = None) -> Config:
    """The defaults, with the override file (if any) merged on top, validated."""
    data = _read_toml(DEFAULT_CONFIG_PATH)
    shown_path = DEFAULT_CONFIG_PATH
    if override_path is not None:
        data = deep_merge(data, _read_toml(override_path))
        shown_path = override_path
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, shown_path)) from None
