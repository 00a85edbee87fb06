"""The codes the ledger stores, as officers read them (terminal summaries, workbooks, history)."""

from __future__ import annotations

INSURANCE_LABELS = {"pension": "养老保险", "medical": "医疗保险"}
STATUS_LABELS = {
    "enrolled": "已参保",
    "unenrolled": "未参保",
    "review": "待核实",
    "exempt": "不纳入",
}
METHOD_LABELS = {
    "exact_id": "身份证号一致",
    "upgraded_id": "15位号码升级后一致",
    "id_prefix": "号码被截断，前15位一致",
    "near_miss_id": "号码一位之差",
    "no_usable_id": "出生日期+性别+县",
    "name_only": "仅姓名",
    "review_confirmed": "人工核实确认",
}
