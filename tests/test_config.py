"""The configuration file: defaults load, overrides merge, mistakes are named by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "override.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_and_have_documented_policy_values() -> None:
    config = load_config()
    assert config.ages.pension_min_age == 16
    assert "终止参保" in config.statuses.terminated
    assert "终止参保" not in config.statuses.enrolled
    assert config.money.medical.subsidy[2017]["特困人员"].kind == "full"


def test_an_override_adds_an_alias_and_keeps_the_rest(tmp_path: Path) -> None:
    override = write(tmp_path, '[headers.registry]\nname = ["姓名", "群众姓名"]\n')
    config = load_config(override)
    assert config.headers.registry.name == ["姓名", "群众姓名"]
    assert config.headers.registry.id_number == load_config().headers.registry.id_number


def test_the_fingerprint_changes_with_the_configuration(tmp_path: Path) -> None:
    override = write(tmp_path, "[matching]\nauto_match = 0.95\n")
    assert load_config(override).fingerprint() != load_config().fingerprint()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[matching]\nauto_matc = 0.9\n", "matching.auto_matc"),
        ('[ages]\npension_min_age = "十六"\n', "ages.pension_min_age"),
        ("[matching]\nreview = 0.99\n", "matching"),
        (
            '[money.medical.subsidy.2024."低保对象"]\nkind = "fixed"\n',
            "money.medical.subsidy.2024.低保对象",
        ),
        ('[statuses]\nterminated = ["参保缴费"]\n', "statuses"),
    ],
)
def test_a_bad_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_a_broken_toml_file_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[matching\n")
    with pytest.raises(ConfigError, match=r"override\.toml"):
        load_config(path)
