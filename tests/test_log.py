"""ID numbers never reach a log line in full."""

from __future__ import annotations

import logging

import pytest

from pipelines.log import get_logger, mask_ids_in_text, setup_logging


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("号码 430124199001011234 有误", "号码 430124********1234 有误"),
        ("43012419900101123X", "430124********123X"),
        ("legacy 430124900101123", "legacy 430124*****1123"),
        ("人员编号 12345 保持原样", "人员编号 12345 保持原样"),
    ],
)
def test_mask_ids_in_text(text: str, expected: str) -> None:
    assert mask_ids_in_text(text) == expected


def test_log_records_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging()
    get_logger("test").info("无法匹配 %s", "430124199001011234")
    logging.getLogger("pipelines").handlers[0].flush()
    assert "430124199001011234" not in capsys.readouterr().err
