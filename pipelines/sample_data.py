"""Deterministic, seeded synthetic extracts for the reconciliation pipeline.

Everything is built set-based (numpy arrays and polars expressions over whole columns); the only
Python loops run over files, sheets, townships, damage kinds or chunks, never over people.
Writing xlsx still walks rows because openpyxl has no columnar API.

    python -m pipelines.sample_data --out DIR [--people N] [--seed S]
    python -m pipelines.sample_data --out DIR --bench [--rows N] [--xlsx-rows N] [--seed S]
    python -m pipelines.sample_data --out DIR --scale --people N [--roster-ratio R] [--seed S]
                                    [--names realistic|crowded]

The sample mode writes DIR/{registry,pension,medical}/ as the data contract describes, plus
DIR/truth/ (persons, registry_rows, roster_rows) which ingestion must never read. Every damaged
row is labelled in the truth, with the row number a data officer sees in the file.

--scale: matcher benchmarks at 10k-1M registry people
------------------------------------------------------
The same population, list membership, damage model, quarantine rows and truth as the sample,
but only fast formats and rosters of about R x N rows in all (default R = 14; about 45% pension,
55% medical); most roster rows are outsiders, people not in the registry, with valid and
distinct IDs. 100k people take about 15 s, 1M about 2 min and under 6 GB. Names follow the
realistic model unless --names crowded asks for the sample's few common names (NAME_MODELS).
Files (CSV rows start on line 2, under the header; the row number in the truth counts the same
way for Parquet):

    registry/建档立卡_宁乡市.csv           GB18030, CRLF (GBK characters only), as in the sample
    registry/建档立卡_凤凰县.csv           UTF-8 (the sample's workbook, flat)
    registry/低保对象.csv                  UTF-8 with BOM (some 低保 people are on 建档立卡 too)
    registry/特困人员.parquet
    pension/城乡居民养老保险_宁乡市.csv    UTF-8
    pension/城乡居民养老保险_凤凰县.parquet
    pension/职工养老保险_市级.csv          UTF-8
    medical/城乡居民医保.parquet
    medical/职工医保.csv                   UTF-8 with BOM
    truth/persons.parquet, registry_rows.parquet   as in the sample
    truth/roster_rows.parquet   as in the sample, plus `hard_case` and `decoy_for` (below)
    truth/coverage.parquet      one row per registry person per insurance (below)

Hard cases. truth/roster_rows.parquet `hard_case` (list of labels, usually empty) says which
trap a roster record is part of; `decoy_for` names the registry person (person_uid) a record
that is NOT theirs is built to be mistaken for:
    namesake_same_birth_county  a registry person's own record whose ID carries near-miss damage
                                (id_wrong_check / id_digit_typo / id_digit_swap /
                                id_excel_rounded, in `damage`) and whose name is written
                                cleanly, while another person with the same name, birth date
                                and county (an outsider, or another registry person) has a
                                record in the same insurance with a clean, valid ID
    namesake_decoy              that other person's record (clean ID and name; decoy_for set)
    reissued_id                 a record of an outsider carrying a registry person's exact ID
                                number (a re-issued/duplicated number: same birth date, sex and
                                county, a different name); written cleanly; decoy_for set.
                                Outsiders' IDs equal registry IDs only in these records.
    terminated_with_active      a registry person's terminated record (终止参保/注销) next to an
                                active record of theirs in the same insurance
    terminated_only             a registry person's terminated record with no active one
Each of the first three involves about HARD_CASE_RATE (0.5%) of registry people. Homophone,
traditional-character and dot-variant names (name_homophone, name_traditional,
name_dot_variant) and IDs a float or Excel spoiled (id_excel_rounded: last three digits lost;
id_sci_float), as well as 15-digit legacy numbers (id_legacy15), are the sample's damage kinds,
labelled in `damage` as always.

truth/coverage.parquet: person_uid, insurance, roster_person_nos (every record that truly
belongs to them, in file order; roster_person_no is unique across files), statuses (aligned),
has_active_record (a record whose status is neither terminated nor quarantined),
decoy_roster_person_nos (records built to be mistaken for theirs) and hard_case (labels of
their own records, plus reissued_id when someone else's record carries their number).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import itertools
import re
import sys
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl
import polars.selectors as cs
import pyarrow.parquet as pq
from opencc import OpenCC
from openpyxl import Workbook
from pypinyin import lazy_pinyin

from pipelines.normalise.ids import CHECK_CHARACTERS, check_character

# All ages, statuses and the 填报日期 on title rows are "as of" this extract date.
EXTRACT_DATE = dt.date(2025, 12, 31)
EXTRACT_DATE_TEXT = "2025年12月31日"
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "data" / "reference"

NINGXIANG = "430182"
NINGXIANG_OLD = "430124"  # 宁乡县 until 2017; people born before then may still carry it
FENGHUANG = "433123"
COUNTY_NAMES = {NINGXIANG: "宁乡市", FENGHUANG: "凤凰县"}
CITY_NAMES = {NINGXIANG: "长沙市", FENGHUANG: "湘西土家族苗族自治州"}
NINGXIANG_SHARE = 0.55
# Neighbouring Hunan counties whose codes people married or moved in with (all real codes).
OTHER_HUNAN_CODES = ("430181", "430121", "430102", "433101", "433122", "431202", "430921")

CAT_POOR = "建档立卡贫困人口"
CAT_DIBAO = "低保对象"
CAT_TEKUN = "特困人员"

PENSION_RESIDENT = "城乡居民基本养老保险"
PENSION_ENTERPRISE = "企业职工基本养老保险"
PENSION_CIVIL = "机关事业单位基本养老保险"
MEDICAL_RESIDENT = "城乡居民基本医疗保险"
MEDICAL_EMPLOYEE = "职工基本医疗保险"
ACTIVE_STATUSES = ("参保缴费", "正常参保", "暂停缴费", "中断缴费")
ACTIVE_STATUS_P = (0.45, 0.35, 0.10, 0.10)
TERMINATED_STATUSES = ("终止参保", "注销")
UNKNOWN_STATUS = "未知"
UNKNOWN_CATEGORY = "其他"

# ---------------------------------------------------------------------------------------------
# Files: name, layout and what damage each may carry.
# ---------------------------------------------------------------------------------------------
F_NX_REGISTRY = "registry/建档立卡_宁乡市.csv"
F_FH_REGISTRY = "registry/建档立卡_凤凰县.xlsx"
F_DIBAO = "registry/低保对象.csv"
F_TEKUN = "registry/特困人员.xlsx"
F_NX_PENSION = "pension/城乡居民养老保险_宁乡市.csv"
F_FH_PENSION = "pension/城乡居民养老保险_凤凰县.csv"
F_EMP_PENSION = "pension/职工养老保险_市级.xlsx"
F_RES_MEDICAL = "medical/城乡居民医保.parquet"
F_EMP_MEDICAL = "medical/职工医保.csv"
F_BENCH_ROSTER = "pension/bench_roster.csv"
F_BENCH_REGISTRY = "registry/bench_registry.xlsx"
# --scale writes no xlsx: these replace the default mode's workbooks (and the tab-separated
# GB18030 pension roster). The other files keep their default names.
S_FH_REGISTRY = "registry/建档立卡_凤凰县.csv"
S_TEKUN = "registry/特困人员.parquet"
S_FH_PENSION = "pension/城乡居民养老保险_凤凰县.parquet"
S_EMP_PENSION = "pension/职工养老保险_市级.csv"


@dataclass(frozen=True)
class FileSpec:
    first_data_row: int  # spreadsheet row / text line of the first data row (1-based)
    has_birth_date: bool = False  # a missing ID can only be repaired where 出生日期 is given
    gbk_only: bool = False  # Excel-on-Windows CSV: only characters GBK can encode
    numeric_id_share: float = 0.0  # xlsx: share of digit-only ID cells written as numbers


FILE_SPECS: dict[str, FileSpec] = {
    F_NX_REGISTRY: FileSpec(2, has_birth_date=True, gbk_only=True),
    F_FH_REGISTRY: FileSpec(4, has_birth_date=True, numeric_id_share=0.10),
    F_DIBAO: FileSpec(2),
    F_TEKUN: FileSpec(2, numeric_id_share=0.20),
    F_NX_PENSION: FileSpec(2),
    F_FH_PENSION: FileSpec(2),
    F_EMP_PENSION: FileSpec(3, numeric_id_share=0.35),
    F_RES_MEDICAL: FileSpec(2),
    F_EMP_MEDICAL: FileSpec(2),
    F_BENCH_ROSTER: FileSpec(2),
    F_BENCH_REGISTRY: FileSpec(3, has_birth_date=True, numeric_id_share=0.10),
    S_FH_REGISTRY: FileSpec(2, has_birth_date=True),
    S_TEKUN: FileSpec(2),
    S_FH_PENSION: FileSpec(2),
    S_EMP_PENSION: FileSpec(2),
}


# ---------------------------------------------------------------------------------------------
# Name pools (all GBK-encodable). Weights are rough shares, tilted to Hunan and 湘西.
# ---------------------------------------------------------------------------------------------
def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def weighted(text: str) -> dict[str, float]:
    """'王6 李5.5 …' → {'王': 6.0, '李': 5.5, …}"""
    return {item[0]: float(item[1:]) for item in text.split()}


# fmt: off
NINGXIANG_SURNAMES = weighted(
    "王6 李6 张5.5 刘5 陈4.5 杨3 黄2.5 周2.5 赵1.5 吴1.8 徐1.2 孙1 胡1.3 朱1.1 郭1 何1.3 罗1.5 "
    "高0.9 林0.8 梁0.6 谢1 宋0.6 唐1.2 邓1.1 彭1.2 曾1 谭1.2 喻0.6 易0.7 贺0.7 龚0.5 文0.6 肖0.8 "
    "袁0.6 蒋0.6 廖0.6 姜0.4 熊0.5 邹0.5 夏0.4 单0.05 解0.05 仇0.05"
)
FENGHUANG_SURNAMES = weighted(
    "龙6 吴6 麻4 石4 杨5 田4 滕3 张3 欧1.5 隆1.5 施1 向2 彭2 王2 刘2 陈2 黄1.5 李2 唐1 侯1 熊1 "
    "廖1 姚1 曾0.8 单0.1 解0.1 仇0.1"
)
HETERONYM_SURNAMES = ("曾", "单", "解", "仇")
# Common given names: the crowded model's only pools (deliberately small, so that (name, birth
# date, county) collide) and the realistic model's commonest names.
MALE_GIVEN = words(
    "建国 建华 建军 国强 国华 志强 志明 志勇 德明 德华 永红 卫东 红军 海军 明 伟 军 勇 强 刚 平 "
    "辉 斌 波 涛 杰 磊 超 鹏 浩 宇 俊 文 华 林 峰 亮 小兵 小军 小龙 长青 金龙 春生 冬生 桂生 新民 "
    "正华 家兴 子轩 浩然 宇轩 俊杰 志华 胜利 国庆 建平 爱国 光明 红兵 海波 文斌 云飞 文华 振华"
)
FEMALE_GIVEN = words(
    "芳 秀英 桂英 秀兰 桂兰 玉兰 玉梅 丽 敏 静 红 艳 娟 霞 燕 玲 萍 梅 莉 兰 凤 英 翠 春花 桂花 "
    "秋菊 冬梅 小红 小燕 丽娟 丽华 红梅 海燕 美玲 玉凤 金凤 淑珍 素珍 秀珍 雪梅 晓燕 欣怡 梓涵 "
    "诗涵 雨欣 子涵 佳怡 思琪 婷 慧 琴 娜 菊香 满英 凤英 春兰"
)
# The realistic name model (--names realistic, the matcher benchmark's default): a quarter of
# people carry one of the common given names above, each then about as frequent as in the 2019
# national name report (王 + a common name ≈ 0.03% of people; 张伟 is 0.02% in China); the rest
# get a given name of one or two characters drawn from these pools with Zipf weights (s = 0.5,
# first = commonest). The commonest full name is then ≈ 0.06% of people, and half the names of
# 200,000 people are held by one of them. The crowded model (--names crowded, the committed
# sample) uses only the common names: every name is then about as common as the commonest in
# China, a stress test for the namesake guards.
NAME_MODELS = ("realistic", "crowded")
COMMON_GIVEN_SHARE = 0.25
SINGLE_CHARACTER_GIVEN_SHARE = 0.2
GIVEN_CHARACTER_ZIPF = 0.5
MALE_GIVEN_CHARACTERS = words(
    "伟 强 军 明 平 华 建 国 志 勇 杰 涛 斌 超 波 辉 刚 磊 鹏 浩 宇 俊 文 林 峰 亮 兵 龙 生 民 东 "
    "海 春 成 德 新 永 光 荣 兴 发 福 贵 祥 安 全 忠 义 金 山 清 松 江 河 云 飞 鑫 毅 立 凯 健 彬 "
    "振 宏 洪 家 庆 长 顺 泽 坤 晨 阳 旭 昊 然 睿 博 思 铭 轩 豪 航 子 天 正 仁 利 友 喜 旺 财 宝 "
    "才 中 红 卫 先 学 胜 力 武 耀 锋 继 承 和 远 少 秋 冬 水 根 石 树 元 洋 虎 彪 雄 善 良 智 恒 "
    "毛 吉 玉 奇 锦 煌 培 益 双 满 保 定 合 茂 桥 湘 楚 衡 岳 韶 朝 晖 跃 腾 达 帆 逸 哲"
)
FEMALE_GIVEN_CHARACTERS = words(
    "芳 英 秀 兰 桂 玉 梅 丽 敏 静 红 艳 娟 霞 燕 玲 萍 莉 凤 翠 花 菊 珍 琴 婷 慧 娜 欣 怡 涵 "
    "雪 晓 佳 琳 颖 倩 洁 媛 春 月 香 云 淑 美 雅 蓉 荣 君 妹 娥 莲 菲 萱 悦 彤 瑶 璐 露 岚 琼 爱 "
    "宁 莹 晶 珊 姗 妍 嘉 馨 蕾 薇 菁 素 贞 巧 彩 银 金 满 小 冬 秋 海 思 诗 梓 雨 语 可 心 紫 若 "
    "依 梦 曼 青 清 华 平 群 芬 芝 茹 荷 黛 丹 惠 婉 娇 容 霜 宜 冰 文 双 艺 好 喜 乐 安 庆 湘 "
    "琪 瑜 璇 蓓 茜 楠 亚 娅 姣 妮 琦 环 凌 玫 珠"
)
# Transliterated names written with a middle dot (people who married or moved into 凤凰县).
MINORITY_MALE = ("买买提·吐尔逊", "扎西·多吉", "阿卜杜·热合曼", "阿斯哈尔·努尔", "巴特尔·朝鲁")
MINORITY_FEMALE = ("阿依古丽·买买提", "古丽娜尔·艾力", "格桑·卓玛", "次仁·央金", "娜仁·其木格")
MIDDLE_DOT = "·"
DOT_VARIANTS = ("•", "．", "・", "", ".")
DOT_VARIANTS_GBK = ("．", "", ".")
# Same-sounding characters that clerks type instead (王芳 → 王方): pairs 'ab' mean a → b.
HOMOPHONES = dict(pair for pair in words(
    "芳方 红洪 华化 明铭 丽莉 军君 伟卫 平萍 英瑛 兰岚 静晶 敏民 勇永 涛韬 斌彬 杰洁 霞侠 燕艳 "
    "玲铃 梅玫 峰锋 林琳 辉晖 波博 鹏朋 浩皓 宇雨 俊峻 文雯 娟涓 萍平 莉丽 凤风 琴勤 慧惠 婷亭 "
    "生升 民敏 兵彬 龙隆 花华 珍贞 香湘 兴星 然燃 轩萱 涵含 怡宜 欣心 飞非 国帼 强蔷 刚钢 艳燕 "
    "超潮 磊垒"
))
NAME_PLACEHOLDERS = ("?", "□")

NINGXIANG_VILLAGE_STEMS = words(
    "石桥 龙潭 枫树 黄泥 新田 长冲 大塘 双江 白沙 青山 桃林 金盆 马鞍 杨柳 花园 沙坪 荷叶 塅上 "
    "高峰 联合 团山 回龙 泉塘 关山 楚江 五里 田坪 洞庭 芙蓉 朱良 林果 麻山 洪家 烟竹 栗山 檀木 "
    "梅花 黄花 新桥 金峰 太平 和平"
)
FENGHUANG_VILLAGE_STEMS = words(
    "拉毫 早岗 勾良 排料 叭固 米坨 大坪 黄茅坪 老家寨 竹山 凉灯 板畔 冬就 苏马河 高岩 舒家塘 "
    "岩板井 千潭 大马 长坳 火炉坪 金坪 叶如 茶山 桥溪 坨田 雀儿寨 龙塘 樱桃坳 菖蒲塘 马鞍山 "
    "黄合 水田 都吾 米良 禾排 沙坪 板当 夯卡 鸭堡"
)
# fmt: on

# ---------------------------------------------------------------------------------------------
# Damage kinds and their rates (share of the rows eligible for them).
# ---------------------------------------------------------------------------------------------
ID_DAMAGE_RATES: dict[str, float] = {
    "id_outer_space": 0.020,
    "id_inner_space": 0.010,
    "id_nbsp": 0.012,
    "id_zero_width": 0.010,
    "id_bom_char": 0.008,
    "id_fullwidth": 0.015,
    "id_lowercase_x": 0.250,  # of IDs ending in X
    "id_apostrophe": 0.020,
    "id_hyphen": 0.010,
    "id_sci_float": 0.010,
    "id_excel_rounded": 0.015,
    "id_legacy15": 0.020,
    "id_wrong_check": 0.010,
    "id_digit_typo": 0.010,
    "id_digit_swap": 0.008,
    "id_missing": 0.015,
}
NAME_DAMAGE_RATES: dict[str, float] = {
    "name_traditional": 0.015,
    "name_homophone": 0.015,
    "name_space": 0.015,
    "name_dot_variant": 0.400,  # of names with a middle dot
    "name_placeholder": 0.010,
}
ID_NUMERIC_CELL = "id_numeric_cell"
ALL_DAMAGE_LABELS = (*ID_DAMAGE_RATES, ID_NUMERIC_CELL, *NAME_DAMAGE_RATES)
MIN_PER_DAMAGE_KIND = 3
GBK_UNSAFE_ID_DAMAGE = frozenset({"id_nbsp", "id_zero_width", "id_bom_char"})
FULLWIDTH = {**{str(d): chr(0xFF10 + d) for d in range(10)}, "X": "Ｘ"}

# Deliberately bad rows: (file, reason) → how many. Validation must quarantine each of them.
BAD_ROWS: dict[tuple[str, str], int] = {
    (F_NX_REGISTRY, "missing_township"): 2,
    (F_DIBAO, "missing_township"): 1,
    (F_NX_REGISTRY, "unknown_category"): 1,
    (F_FH_REGISTRY, "unknown_category"): 1,
    (F_TEKUN, "unknown_category"): 1,
    (F_NX_PENSION, "unknown_status"): 2,
    (F_FH_PENSION, "unknown_status"): 1,
    (F_RES_MEDICAL, "unknown_status"): 1,
    (F_NX_PENSION, "missing_name"): 1,
    (F_RES_MEDICAL, "missing_name"): 1,
    (F_EMP_MEDICAL, "missing_name"): 1,
}
BENCH_BAD_ROWS: dict[tuple[str, str], int] = {
    (F_BENCH_REGISTRY, "missing_township"): 5,
    (F_BENCH_REGISTRY, "unknown_category"): 5,
    (F_BENCH_ROSTER, "unknown_status"): 20,
    (F_BENCH_ROSTER, "missing_name"): 20,
}


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """One generator per stage, so changing one stage never shifts another stage's draws."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode())])


def text_series(values: np.ndarray) -> pl.Series:
    """A String series from a numpy array of str/object (None stays null)."""
    return pl.Series(np.asarray(values, dtype=object).tolist(), dtype=pl.String)


def report(message: str) -> None:
    sys.stdout.write(message + "\n")


# =============================================================================================
# Geography
# =============================================================================================
def load_rural_townships() -> pl.DataFrame:
    """Real 乡/镇 of the two counties (poverty registries are rural, so no 街道)."""
    return (
        pl.read_csv(REFERENCE_DIR / "hunan_townships_2023.csv", infer_schema=False)
        .filter(
            pl.col("county_code").is_in([NINGXIANG, FENGHUANG]),
            pl.col("township_type").is_in(["镇", "乡"]),
        )
        .select("township_code", "township_name", "county_code")
        .sort("township_code")
    )


def choose_villages(seed: int) -> pl.DataFrame:
    """4-6 real townships per county, each with 3-6 invented villages (12-digit codes)."""
    rng = stage_rng(seed, "geography")
    townships = load_rural_townships()
    parts = []
    for county, stems in (
        (NINGXIANG, NINGXIANG_VILLAGE_STEMS),
        (FENGHUANG, FENGHUANG_VILLAGE_STEMS),
    ):
        pool = townships.filter(pl.col("county_code") == county)
        picked = np.sort(rng.choice(pool.height, size=int(rng.integers(4, 7)), replace=False))
        chosen = pool[picked]
        n_villages = rng.integers(3, 7, size=chosen.height)
        names = rng.choice(stems, size=int(n_villages.sum()), replace=False)
        village_no = np.concatenate([np.arange(k) for k in n_villages])
        parts.append(
            pl.DataFrame(
                {
                    "township_code": np.repeat(chosen["township_code"].to_numpy(), n_villages),
                    "township_name": np.repeat(chosen["township_name"].to_numpy(), n_villages),
                    "village_name": [f"{stem}村" for stem in names],
                    "village_suffix": [f"{201 + k:03d}" for k in village_no],
                }
            ).with_columns(county_code=pl.lit(county))
        )
    return (
        pl.concat(parts)
        .with_columns(village_code=pl.col("township_code") + pl.col("village_suffix"))
        .drop("village_suffix")
        .with_row_index("village_idx")
    )


# =============================================================================================
# People: registry households plus roster-only outsiders, one population with unique IDs
# =============================================================================================
HOUSEHOLD_SIZE_P = (0.18, 0.22, 0.20, 0.20, 0.12, 0.08)
ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_GRANDCHILD, ROLE_PARENT = range(5)


def draw_household_sizes(rng: np.random.Generator, n_people: int) -> np.ndarray:
    """Household sizes 1-6 summing to exactly n_people (the last household is cut to fit)."""
    sizes = rng.choice(np.arange(1, 7), size=max(n_people, 1), p=HOUSEHOLD_SIZE_P)
    total = np.cumsum(sizes)
    last = int(np.searchsorted(total, n_people))
    sizes = sizes[: last + 1].copy()
    sizes[-1] -= int(total[last]) - n_people
    return sizes


def build_households(
    rng: np.random.Generator, n_people: int, villages: pl.DataFrame
) -> pl.DataFrame:
    """One row per registry person: household, role in it, sex and age."""
    sizes = draw_household_sizes(rng, n_people)
    n_households = sizes.size
    village_county = villages["county_code"].to_numpy()
    ningxiang_villages = np.flatnonzero(village_county == NINGXIANG)
    fenghuang_villages = np.flatnonzero(village_county == FENGHUANG)
    in_ningxiang = rng.random(n_households) < NINGXIANG_SHARE
    village = np.where(
        in_ningxiang,
        ningxiang_villages[rng.integers(0, ningxiang_villages.size, n_households)],
        fenghuang_villages[rng.integers(0, fenghuang_villages.size, n_households)],
    )
    # Single-person households are mostly elderly (typical 特困/五保 shape).
    head_age = np.where(
        sizes == 1, rng.integers(45, 93, n_households), rng.integers(28, 81, n_households)
    )
    head_male = rng.random(n_households) < 0.82
    has_spouse = (sizes >= 2) & (rng.random(n_households) < 0.8)

    household = np.repeat(np.arange(n_households), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(n_people) - np.repeat(starts, sizes)
    size = sizes[household]
    age_h = head_age[household]
    role = np.where(
        rank == 0, ROLE_HEAD, np.where((rank == 1) & has_spouse[household], ROLE_SPOUSE, ROLE_CHILD)
    )
    is_last_of_big = (size >= 5) & (rank == size - 1)
    role = np.where(is_last_of_big, np.where(age_h >= 52, ROLE_GRANDCHILD, ROLE_PARENT), role)

    n = n_people
    # Children born when the head was 22-40, grandchildren when the head was 44-64.
    child_age = (age_h - 22) - np.floor(rng.random(n) * np.clip(age_h - 22, 0, 18))
    grandchild_age = (age_h - 44) - np.floor(rng.random(n) * np.clip(age_h - 44, 0, 20))
    age = np.select(
        [role == ROLE_HEAD, role == ROLE_SPOUSE, role == ROLE_CHILD, role == ROLE_GRANDCHILD],
        [age_h, age_h + rng.integers(-5, 4, n), child_age, grandchild_age],
        default=age_h + rng.integers(22, 32, n),
    ).clip(0, 95)
    male = np.select(
        [role == ROLE_HEAD, role == ROLE_SPOUSE],
        [head_male[household], ~head_male[household]],
        default=rng.random(n) < 0.52,
    )
    return pl.DataFrame(
        {
            "household_idx": household,
            "rank": rank,
            "role": role,
            "household_size": size,
            "village_idx": village[household].astype(np.uint32),
            "age_target": age.astype(np.int32),
            "male": male,
        }
    ).join(villages, on="village_idx", how="left", maintain_order="left")


def outsider_age_weights() -> tuple[np.ndarray, np.ndarray]:
    """Ages 0-95 and their probabilities among outsiders (flat to 60, then thinning out)."""
    ages = np.arange(96)
    weights = np.where(ages < 60, 1.0, np.exp(-(ages - 60) / 12.0))
    return ages, weights / weights.sum()


def build_outsiders(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Roster people who are not in the registry: a county's ordinary insured population."""
    ages, weights = outsider_age_weights()
    return pl.DataFrame(
        {
            "age_target": rng.choice(ages, size=n, p=weights).astype(np.int32),
            "male": rng.random(n) < 0.51,
            "county_code": np.where(rng.random(n) < NINGXIANG_SHARE, NINGXIANG, FENGHUANG),
        }
    )


def age_on(birth: pl.Expr, on: dt.date) -> pl.Expr:
    """Completed years of age on a date."""
    before_birthday = (birth.dt.month() > on.month) | (
        (birth.dt.month() == on.month) & (birth.dt.day() > on.day)
    )
    return (on.year - birth.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int32)


def draw_birth_dates(rng: np.random.Generator, age_target: np.ndarray) -> np.ndarray:
    days_back = np.floor(age_target * 365.2425).astype(np.int64) + rng.integers(
        0, 365, age_target.size
    )
    return np.datetime64(EXTRACT_DATE, "D") - days_back.astype("timedelta64[D]")


def draw_names(
    rng: np.random.Generator, people: pl.DataFrame, model: str = "crowded"
) -> tuple[np.ndarray, np.ndarray]:
    """Surname and given name by county (surname pools differ) and sex; see NAME_MODELS."""
    if model not in NAME_MODELS:
        raise ValueError(f"unknown name model {model!r}; expected one of {NAME_MODELS}")
    n = people.height
    in_ningxiang = people["county_code"].to_numpy() == NINGXIANG
    surnames = []
    for pool in (NINGXIANG_SURNAMES, FENGHUANG_SURNAMES):
        weights = np.array(list(pool.values()))
        surnames.append(rng.choice(list(pool), size=n, p=weights / weights.sum()))
    surname = np.where(in_ningxiang, surnames[0], surnames[1])
    male = people["male"].to_numpy()
    given = np.where(male, rng.choice(MALE_GIVEN, size=n), rng.choice(FEMALE_GIVEN, size=n))
    if model == "realistic":
        composed = np.where(
            male,
            compose_given_names(rng, n, MALE_GIVEN_CHARACTERS),
            compose_given_names(rng, n, FEMALE_GIVEN_CHARACTERS),
        )
        given = np.where(rng.random(n) < COMMON_GIVEN_SHARE, given, composed)
    return surname.astype(object), given.astype(object)


def compose_given_names(
    rng: np.random.Generator, n: int, characters: tuple[str, ...]
) -> np.ndarray:
    """n given names of one or two characters, each character drawn with a Zipf weight."""
    weights = 1 / np.arange(1, len(characters) + 1) ** GIVEN_CHARACTER_ZIPF
    pool = np.array(characters, dtype=object)
    first, second = (rng.choice(pool, size=n, p=weights / weights.sum()) for _ in range(2))
    return np.where(rng.random(n) < SINGLE_CHARACTER_GIVEN_SHARE, first, first + second)


def inherit_head_surname(people: pl.DataFrame, surname: np.ndarray) -> np.ndarray:
    """Children and grandchildren of a male head carry his surname."""
    household = people["household_idx"].to_numpy()
    role = people["role"].to_numpy()
    head_row = np.flatnonzero(role == ROLE_HEAD)
    head_of = np.empty(household.max() + 1, dtype=np.int64)
    head_of[household[head_row]] = head_row
    head_male = people["male"].to_numpy()[head_of[household]]
    takes_head = np.isin(role, [ROLE_CHILD, ROLE_GRANDCHILD]) & head_male
    out = surname.copy()
    out[takes_head] = surname[head_of[household]][takes_head]
    return out


def force_rare_names(
    rng: np.random.Generator, people: pl.DataFrame, name: np.ndarray, given: np.ndarray
) -> None:
    """Make sure heteronym surnames and dotted minority names occur even in small samples."""
    county = people["county_code"].to_numpy()
    adult = people["age_target"].to_numpy() >= 18
    male = people["male"].to_numpy()
    ningxiang_rows = np.flatnonzero(county == NINGXIANG)
    picked = rng.choice(
        ningxiang_rows, size=min(ningxiang_rows.size, 2 * len(HETERONYM_SURNAMES)), replace=False
    )
    for i, surname in enumerate(HETERONYM_SURNAMES):
        rows = picked[2 * i : 2 * i + 2]
        name[rows] = surname + given[rows]
    fenghuang_adults = np.flatnonzero((county == FENGHUANG) & adult)
    k = min(fenghuang_adults.size, max(4, round(0.02 * fenghuang_adults.size)))
    rows = rng.choice(fenghuang_adults, size=k, replace=False)
    name[rows] = np.where(
        male[rows], rng.choice(MINORITY_MALE, size=k), rng.choice(MINORITY_FEMALE, size=k)
    )


def force_name_birth_collisions(
    rng: np.random.Generator, population: pl.DataFrame, n_registry: int
) -> pl.DataFrame:
    """Copy (name, sex, birth date, county) from some registry people onto other people.

    The copies get their own ID numbers, so name + birth date + place is not a unique key:
    outsiders who look like registry people, and a few pairs of registry singletons.
    """
    n = population.height
    county = population["county_code"].to_numpy()
    k = max(4, round(0.01 * n_registry))
    sources = rng.choice(n_registry, size=min(k, n_registry), replace=False)
    targets = rng.choice(np.arange(n_registry, n), size=sources.size, replace=False)
    # Registry singletons have no household ages to keep consistent, so they can be copies too;
    # they stay in their own county (their village is there). Sources, targets and pairs are
    # disjoint, so the copies can be made in one scatter.
    household_size = population["household_size"].to_numpy()[:n_registry]
    copy_from, copy_to = [sources], [targets]
    for code in (NINGXIANG, FENGHUANG):
        singles = np.flatnonzero((household_size == 1) & (county[:n_registry] == code))
        singles = singles[np.isin(singles, sources, invert=True)]
        n_pairs = min(singles.size // 2, max(1, round(0.001 * n_registry)))
        pair = rng.choice(singles, size=2 * n_pairs, replace=False)
        copy_from.append(pair[0::2])
        copy_to.append(pair[1::2])
    source, target = np.concatenate(copy_from), np.concatenate(copy_to)
    return population.with_columns(
        *(
            population[c].clone().scatter(target, population[c].gather(source))
            for c in ("name", "male", "birth_date")
        ),
        # Only the outsider copies take the county.
        population["county_code"]
        .clone()
        .scatter(targets, population["county_code"].gather(sources)),
    )


def draw_address_codes(rng: np.random.Generator, people: pl.DataFrame) -> np.ndarray:
    """The 6-digit code in the ID: where the number was assigned, not where the person lives."""
    n = people.height
    county = people["county_code"].to_numpy()
    birth_year = people["birth_date"].dt.year().to_numpy()
    old_code = (county == NINGXIANG) & (birth_year < 2017) & (rng.random(n) < 0.4)
    code = np.where(old_code, NINGXIANG_OLD, county).astype(object)
    moved_in = (people["age"].to_numpy() >= 18) & (rng.random(n) < 0.03)
    code[moved_in] = rng.choice(OTHER_HUNAN_CODES, size=int(moved_in.sum()))
    return code


def later_duplicates(keys: np.ndarray) -> np.ndarray:
    """True for every occurrence of a key after its first one."""
    return (~pl.Series(keys).is_first_distinct()).to_numpy()


def assign_id_numbers(rng: np.random.Generator, people: pl.DataFrame) -> pl.DataFrame:
    """Unique 18-character IDs: address + YYYYMMDD + sequence (odd = male) + MOD 11-2 check."""
    n = people.height
    male = people["male"].to_numpy().astype(np.int64)
    # The first 14 digits as one integer, so uniqueness is a cheap integer sort.
    birth = pl.col("birth_date")
    prefix = (
        people.select(
            pl.col("address_code").cast(pl.Int64) * 100_000_000
            + birth.dt.year().cast(pl.Int64) * 10_000
            + birth.dt.month().cast(pl.Int64) * 100
            + birth.dt.day().cast(pl.Int64)
        )
        .to_series()
        .to_numpy()
    )
    # Sequence 002-995 (odd = male): 996-999 were reserved for centenarians in the 1989 standard.
    seq = 2 * rng.integers(1, 498, n) + male
    keys = prefix * 1000 + seq
    redraw = later_duplicates(keys)
    for _ in range(50):
        if not redraw.any():
            break
        at = np.flatnonzero(redraw)
        seq[at] = 2 * rng.integers(1, 498, at.size) + male[at]
        keys[at] = prefix[at] * 1000 + seq[at]
        # Every other row already holds a distinct key, so a new duplicate needs a redrawn row:
        # only rows carrying a key some redrawn row now carries need checking.
        suspects = np.flatnonzero(pl.Series(keys).is_in(pl.Series(keys[at]).implode()).to_numpy())
        redraw = np.zeros(n, dtype=bool)
        redraw[suspects] = later_duplicates(keys[suspects])
    else:
        raise RuntimeError("could not draw unique ID numbers; the population is too dense")
    first17 = pl.Series("id17", keys).cast(pl.String)
    return (
        people.with_columns(id17=first17)
        .with_columns(id=pl.col("id17") + check_character(pl.col("id17")))
        .drop("id17")
    )


def assign_categories(rng: np.random.Generator, registry: pl.DataFrame) -> pl.DataFrame:
    """Household-level 建档立卡/低保, individual 特困 (elderly singles), exit, student, state."""
    h = int(registry["household_idx"].max()) + 1
    household = registry["household_idx"].to_numpy()
    heads = registry.filter(pl.col("role") == ROLE_HEAD).sort("household_idx")
    single_elder = (heads["household_size"].to_numpy() == 1) & (heads["age"].to_numpy() >= 55)
    tekun = single_elder & (rng.random(h) < 0.35)
    poor = np.where(tekun, rng.random(h) < 0.65, rng.random(h) < 0.93)
    dibao = ~tekun & (~poor | (rng.random(h) < 0.18))  # every household is on some list
    exit_status = rng.choice(["已脱贫", "未脱贫", "返贫"], size=h, p=[0.72, 0.22, 0.06])

    n = registry.height
    age = registry["age"].to_numpy()
    student = (age >= 6) & (age <= 15) | (age >= 16) & (age <= 22) & (rng.random(n) < 0.45)
    state = rng.choice(
        ["正常", "死亡", "服刑", "现役军人", "出国定居", "迁出"],
        size=n,
        p=[0.962, 0.015, 0.005, 0.005, 0.003, 0.010],
    ).astype(object)
    state[(state == "现役军人") & ((age < 18) | (age > 35))] = "正常"
    state[(state == "服刑") & (age < 18)] = "正常"
    state[(state != "正常") & (state != "死亡") & student] = "正常"
    return registry.with_columns(
        is_poor=pl.Series(poor[household]),
        is_dibao=pl.Series(dibao[household]),
        is_tekun=pl.Series(tekun[household]),
        poverty_exit=text_series(np.where(poor[household], exit_status[household], None)),
        student=pl.Series(student),
        person_state=text_series(state),
    ).with_columns(
        categories=pl.concat_list(
            pl.when(pl.col("is_poor")).then(pl.lit(CAT_POOR)),
            pl.when(pl.col("is_dibao")).then(pl.lit(CAT_DIBAO)),
            pl.when(pl.col("is_tekun")).then(pl.lit(CAT_TEKUN)),
        ).list.drop_nulls()
    )


def number_households(registry: pl.DataFrame) -> pl.DataFrame:
    """户编号 = village code + 4-digit household number; 人员编号 = 户编号 + 3-digit member."""
    household_no = (
        registry.filter(pl.col("role") == ROLE_HEAD)
        .sort("village_code", "household_idx")
        .with_columns(n=pl.int_range(1, pl.len() + 1).over("village_code"))
        .select(
            "household_idx",
            household_no=pl.col("village_code") + pl.col("n").cast(pl.String).str.zfill(4),
        )
    )
    return registry.join(
        household_no, on="household_idx", how="left", maintain_order="left"
    ).with_columns(
        person_key=pl.col("household_no") + (pl.col("rank") + 1).cast(pl.String).str.zfill(3)
    )


def named_people(
    seed: int, n_registry: int, n_outsiders: int, villages: pl.DataFrame, names: str
) -> pl.DataFrame:
    """Households and outsiders with birth dates and names (the hard name cases and look-alikes
    included), before anyone gets an ID: the part the sample and the province share."""
    rng = stage_rng(seed, "population")
    registry = build_households(rng, n_registry, villages)
    outsiders = build_outsiders(rng, n_outsiders)
    population = pl.concat([registry, outsiders], how="diagonal").with_row_index("pid")
    population = population.with_columns(
        birth_date=pl.Series(draw_birth_dates(rng, population["age_target"].to_numpy()))
    )
    names_rng = stage_rng(seed, "names")
    surname, given = draw_names(names_rng, population, names)
    surname[:n_registry] = inherit_head_surname(population[:n_registry], surname[:n_registry])
    name = surname + given
    force_rare_names(names_rng, population[:n_registry], name[:n_registry], given[:n_registry])
    population = population.with_columns(name=text_series(name))
    return force_name_birth_collisions(stage_rng(seed, "collisions"), population, n_registry)


def build_population(
    seed: int,
    n_registry: int,
    n_outsiders: int,
    villages: pl.DataFrame,
    names: str = "crowded",
) -> pl.DataFrame:
    """Registry people (rows 0..n_registry-1) and outsiders, with true names, births and IDs."""
    population = named_people(seed, n_registry, n_outsiders, villages, names)
    population = population.with_columns(age=age_on(pl.col("birth_date"), EXTRACT_DATE))
    id_rng = stage_rng(seed, "ids")
    population = population.with_columns(
        address_code=text_series(draw_address_codes(id_rng, population))
    )
    population = assign_id_numbers(id_rng, population).with_columns(
        is_registry=pl.col("pid") < n_registry,
        county_name=pl.col("county_code").replace_strict(COUNTY_NAMES),
        sex=pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")),
    )
    registry = assign_categories(
        stage_rng(seed, "categories"), population.filter(pl.col("is_registry"))
    )
    registry = number_households(registry)
    registry = registry.with_columns(
        person_uid=pl.lit("P") + (pl.col("pid") + 1).cast(pl.String).str.zfill(7),
        relation=relation_text(),
    )
    return pl.concat([registry, population.filter(~pl.col("is_registry"))], how="diagonal")


def relation_text() -> pl.Expr:
    """与户主关系 as the poverty system writes it."""
    male = pl.col("male")
    role = pl.col("role")
    return (
        pl.when(role == ROLE_HEAD)
        .then(pl.lit("户主"))
        .when(role == ROLE_SPOUSE)
        .then(pl.lit("配偶"))
        .when(role == ROLE_CHILD)
        .then(pl.when(male).then(pl.lit("之子")).otherwise(pl.lit("之女")))
        .when(role == ROLE_GRANDCHILD)
        .then(pl.when(male).then(pl.lit("之孙子")).otherwise(pl.lit("之孙女")))
        .otherwise(pl.when(male).then(pl.lit("之父")).otherwise(pl.lit("之母")))
    )


# =============================================================================================
# Registry rows (one row per person per list)
# =============================================================================================
def school_text(rng: np.random.Generator, registry: pl.DataFrame) -> pl.Series:
    """在校生状况: 非在校生, or the school level the person attends."""
    age = registry["age"].to_numpy()
    student = registry["student"].to_numpy()
    level = np.select(
        [age <= 11, age <= 14, age <= 18],
        ["小学", "初中", np.where(rng.random(age.size) < 0.6, "高中", "中职")],
        default=np.where(rng.random(age.size) < 0.5, "大专", "大学本科"),
    )
    return text_series(np.where(student, level, "非在校生"))


def birth_text(fmt: str = "%Y-%m-%d") -> pl.Expr:
    return pl.col("birth_date").dt.strftime(fmt)


def system_registry_rows(
    people: pl.DataFrame, registry: pl.DataFrame, file: str, category_text: pl.Expr
) -> pl.DataFrame:
    """`people` (with student_text) as a county's 建档立卡 system exports them: by township,
    village and household, each row with the household head's name and ID (heads are looked up
    in the whole `registry`)."""
    heads = registry.filter(pl.col("role") == ROLE_HEAD).select(
        "household_idx", head_name="name", head_id="id"
    )
    return (
        people.join(heads, on="household_idx", how="left", maintain_order="left")
        .sort("township_code", "village_code", "household_no", "rank")
        .select(
            "pid",
            file=pl.lit(file),
            sheet=pl.lit(None, dtype=pl.String),
            person_key="person_key",
            household_key="household_no",
            sex="sex",
            birth_text=birth_text(),
            county_text="county_name",
            township_text="township_name",
            village_text="village_name",
            region_code="village_code",
            category_text=category_text,
            exit_text="poverty_exit",
            student_text="student_text",
            state_text="person_state",
            relation="relation",
            head_name="head_name",
            head_id="head_id",
        )
    )


def ningxiang_registry_rows(rng: np.random.Generator, registry: pl.DataFrame) -> pl.DataFrame:
    people = registry.filter(pl.col("is_poor"), pl.col("county_code") == NINGXIANG)
    n = people.height
    # Some officers list the other programmes in the same cell, separated by 、
    joins_others = rng.random(n) < 0.5
    category = pl.concat_str(
        pl.lit(CAT_POOR),
        pl.when(pl.col("is_dibao") & pl.col("_join"))
        .then(pl.lit("、" + CAT_DIBAO))
        .otherwise(pl.lit("")),
        pl.when(pl.col("is_tekun") & pl.col("_join"))
        .then(pl.lit("、" + CAT_TEKUN))
        .otherwise(pl.lit("")),
    )
    return system_registry_rows(
        people.with_columns(_join=pl.Series(joins_others), student_text=school_text(rng, people)),
        registry,
        F_NX_REGISTRY,
        category,
    )


def fenghuang_registry_rows(rng: np.random.Generator, registry: pl.DataFrame) -> pl.DataFrame:
    people = registry.filter(pl.col("is_poor"), pl.col("county_code") == FENGHUANG)
    n = people.height
    attribute = (
        pl.when(pl.col("is_tekun"))
        .then(pl.lit("特困供养贫困户"))
        .when(pl.col("is_dibao"))
        .then(pl.lit("低保贫困户"))
        .otherwise(pl.lit("一般贫困户"))
    )
    exit_text = (
        pl.when((pl.col("poverty_exit") == "已脱贫") & pl.col("_marked"))
        .then(pl.lit("标注脱贫"))
        .otherwise(pl.col("poverty_exit"))
    )
    return (
        people.with_columns(
            _marked=pl.Series(rng.random(n) < 0.3),
            birth_as_excel_date=pl.Series(rng.random(n) < 0.6),
        )
        .sort("township_code", "village_code", "household_no", "rank")
        .select(
            "pid",
            "birth_as_excel_date",
            "birth_date",
            file=pl.lit(F_FH_REGISTRY),
            sheet="township_name",
            person_key="person_key",
            household_key="household_no",
            sex="sex",
            birth_text=birth_text(),
            county_text="county_name",
            township_text="township_name",
            village_text="village_name",
            category_text=attribute,
            exit_text=exit_text,
            student_text=pl.when(pl.col("student")).then(pl.lit("是")).otherwise(pl.lit("否")),
            relation="relation",
        )
    )


def dibao_rows(registry: pl.DataFrame) -> pl.DataFrame:
    people = registry.filter(pl.col("is_dibao")).sort(
        "county_code", "township_code", "village_code", "household_no", "rank"
    )
    return people.select(
        "pid",
        file=pl.lit(F_DIBAO),
        sheet=pl.lit(None, dtype=pl.String),
        person_key=pl.lit("DB")
        + pl.col("county_code")
        + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(6),
        county_text="county_name",
        township_text="township_name",
        village_text="village_name",
        category_text=pl.lit(CAT_DIBAO),
        exit_text="poverty_exit",
    )


def tekun_rows(rng: np.random.Generator, registry: pl.DataFrame) -> pl.DataFrame:
    people = registry.filter(pl.col("is_tekun")).sort(
        "county_code", "township_code", "village_code"
    )
    n = people.height
    twelve_digits = pl.Series(rng.random(n) < 0.5)
    wubao = pl.Series(rng.random(n) < 0.4)
    return people.with_columns(_twelve=twelve_digits, _wubao=wubao).select(
        "pid",
        file=pl.lit(F_TEKUN),
        sheet=pl.lit("特困人员"),
        county_text="county_name",
        township_text="township_name",
        village_text="village_name",
        region_code=pl.when("_twelve").then("village_code").otherwise("township_code"),
        region_code_numeric=pl.Series(rng.random(n) < 0.3),
        category_text=pl.when(pl.col("_wubao") & pl.col("is_poor"))
        .then(pl.lit("五保贫困户"))
        .otherwise(pl.lit(CAT_TEKUN)),
        state_text="person_state",
    )


# =============================================================================================
# Roster records (one row per insurance record)
# =============================================================================================
def enrolment_dates(
    rng: np.random.Generator, people: pl.DataFrame, earliest: dt.date, min_age: int
) -> np.ndarray:
    """A date after both the scheme's start and the person reaching min_age, before the extract."""
    birth = people["birth_date"].to_numpy().astype("datetime64[D]")
    of_age = birth + np.timedelta64(int(min_age * 365.25), "D")
    start = np.maximum(of_age, np.datetime64(earliest, "D"))
    end = np.datetime64(EXTRACT_DATE, "D")
    span = np.maximum((end - start).astype(np.int64), 0)
    offset = (rng.random(span.size) * span).astype(np.int64).astype("timedelta64[D]")
    return np.minimum(start + offset, end)


ROSTER_STATUSES = (*ACTIVE_STATUSES, "待遇领取", *TERMINATED_STATUSES)
RECEIVING = ROSTER_STATUSES.index("待遇领取")
FIRST_TERMINATED = ROSTER_STATUSES.index(TERMINATED_STATUSES[0])


def decode(codes: np.ndarray, values: tuple[str, ...]) -> pl.Series:
    """Small-integer codes to strings (much faster than building object arrays)."""
    return pl.Series(codes.astype(np.int32)).replace_strict(
        list(range(len(values))), list(values), return_dtype=pl.String
    )


def draw_status_codes(
    rng: np.random.Generator, age: np.ndarray, retired_from: int | None
) -> np.ndarray:
    status = rng.choice(len(ACTIVE_STATUSES), size=age.size, p=ACTIVE_STATUS_P)
    if retired_from is not None:
        status[(age >= retired_from) & (rng.random(age.size) < 0.9)] = RECEIVING
    return status


PENSION_SCHEMES = (PENSION_RESIDENT, PENSION_ENTERPRISE, PENSION_CIVIL)
MEDICAL_SCHEMES = (MEDICAL_RESIDENT, MEDICAL_EMPLOYEE)


def roster_record_codes(
    rng: np.random.Generator,
    population: pl.DataFrame,
    *,
    insurance: str,
    outsider_rate: float,
) -> pl.DataFrame:
    """Records of one insurance as small codes (pid, scheme_code, status_code, in_ningxiang,
    enrolled_on): active, terminated-only, and terminated-plus-active people."""
    pension = insurance == "pension"
    age = population["age"].to_numpy()
    n = population.height
    is_registry = population["is_registry"].to_numpy()
    student = population["student"].fill_null(False).to_numpy()
    if pension:
        rate = np.where(is_registry, np.where(student, 0.35, 0.85), outsider_rate) * (age >= 16)
    else:
        rate = np.where(is_registry, 0.95, outsider_rate)
    enrolled = rng.random(n) < rate
    employee = enrolled & (age >= 18) & (age <= 70) & (rng.random(n) < 0.05)
    scheme = np.where(employee, 1, 0)
    if pension:
        scheme[employee & (rng.random(n) < 0.2)] = 2
    status = draw_status_codes(rng, age, retired_from=60 if pension else None)
    only_terminated = rng.random(n) < (0.03 if pension else 0.02)
    dead = population["person_state"].eq("死亡").fill_null(False).to_numpy()
    only_terminated |= dead & (rng.random(n) < 0.7)
    status[only_terminated] = FIRST_TERMINATED + rng.integers(0, 2, int(only_terminated.sum()))
    # 1% of registry people are insured in the other county (moved, or enrolled where they work).
    in_ningxiang = population["county_code"].eq(NINGXIANG).to_numpy()
    roster_in_ningxiang = in_ningxiang ^ (is_registry & (rng.random(n) < 0.01))
    earliest = dt.date(2011, 1, 1) if pension else dt.date(2009, 1, 1)
    enrolled_on = enrolment_dates(rng, population, earliest, 16 if pension else 0)
    keep = np.flatnonzero(enrolled)
    main = pl.DataFrame(
        {
            "pid": population["pid"].gather(keep),
            "scheme_code": scheme[keep],
            "status_code": status[keep],
            "in_ningxiang": roster_in_ningxiang[keep],
            "enrolled_on": enrolled_on[keep],
        }
    )

    # Terminated-plus-active: an old record kept next to the live one (moved to employee
    # insurance, or a duplicate enrolment cleaned up with 注销), under its own 个人编号.
    active = main.filter(pl.col("status_code") < FIRST_TERMINATED)
    extra = active.filter(pl.Series(rng.random(active.height) < 0.05))
    extra = extra.with_columns(
        status_code=pl.when(pl.col("scheme_code") != 0)
        .then(pl.lit(FIRST_TERMINATED, dtype=pl.Int64))
        .otherwise(pl.Series(FIRST_TERMINATED + rng.integers(0, 2, extra.height))),
        scheme_code=pl.lit(0, dtype=pl.Int64),
        enrolled_on=pl.col("enrolled_on")
        - pl.duration(days=pl.lit(400) + pl.Series(rng.integers(0, 2000, extra.height))),
    )
    return pl.concat([main, extra], how="vertical_relaxed")


def roster_records(
    rng: np.random.Generator,
    population: pl.DataFrame,
    *,
    insurance: str,
    outsider_rate: float,
) -> pl.DataFrame:
    """Records of one insurance, with scheme, status and roster county as text."""
    records = roster_record_codes(rng, population, insurance=insurance, outsider_rate=outsider_rate)
    schemes = PENSION_SCHEMES if insurance == "pension" else MEDICAL_SCHEMES
    return records.select(
        "pid",
        roster_county=pl.when("in_ningxiang").then(pl.lit(NINGXIANG)).otherwise(pl.lit(FENGHUANG)),
        enrolled_on="enrolled_on",
        scheme=decode(records["scheme_code"].to_numpy(), schemes),
        status=decode(records["status_code"].to_numpy(), ROSTER_STATUSES),
        insurance=pl.lit(insurance),
    )


def route_roster_file(insurance: str) -> pl.Expr:
    if insurance == "pension":
        return (
            pl.when(pl.col("scheme") != PENSION_RESIDENT)
            .then(pl.lit(F_EMP_PENSION))
            .when(pl.col("roster_county") == NINGXIANG)
            .then(pl.lit(F_NX_PENSION))
            .otherwise(pl.lit(F_FH_PENSION))
        )
    return (
        pl.when(pl.col("scheme") == MEDICAL_RESIDENT)
        .then(pl.lit(F_RES_MEDICAL))
        .otherwise(pl.lit(F_EMP_MEDICAL))
    )


# Each roster system numbers its own records; none of these look like an 18-digit ID.
# Prefix + 8 digits: 16, 16, 10, 14, 10 and 16 characters.
ROSTER_NUMBER_PREFIX = {
    F_NX_PENSION: "43018210",
    F_FH_PENSION: "43312310",
    F_EMP_PENSION: "43",
    F_RES_MEDICAL: "439000",
    F_EMP_MEDICAL: "80",
    F_BENCH_ROSTER: "43010010",
    S_FH_PENSION: "43312310",
    S_EMP_PENSION: "43",
}


def number_roster_rows(rng: np.random.Generator, records: pl.DataFrame) -> pl.DataFrame:
    """Shuffle records within each file, then number them in order (rosters sort by 个人编号)."""
    shuffle = rng.permutation(records.height)
    # Sorting on a file code (files in name order) is the same order as sorting on the name,
    # and much faster than a string sort at ten million rows.
    files = sorted(records["file"].unique().to_list())
    code = records["file"].cast(pl.Enum(files)).to_physical().to_numpy()
    order = np.lexsort((shuffle, code))
    code = code[order]
    counts = np.bincount(code, minlength=len(files))
    within = np.arange(records.height) - np.repeat(np.cumsum(counts) - counts, counts)
    number = pl.Series((within + 1) * 7 + 10_000)  # gaps, as after deletions
    prefix = pl.Series([ROSTER_NUMBER_PREFIX[f] for f in files]).gather(code)
    return records[order].with_columns(
        roster_person_no=prefix + number.cast(pl.String).str.zfill(8)
    )


def region_text(file: str) -> pl.Expr:
    county = pl.col("roster_county")
    if file == F_NX_PENSION:
        return county.replace_strict(COUNTY_NAMES)
    if file == F_FH_PENSION:
        return county
    return county.replace_strict(CITY_NAMES)


def enrolled_on_text(file: str) -> pl.Expr:
    fmt = {F_FH_PENSION: "%Y%m%d"}.get(file, "%Y-%m-%d")
    return pl.col("enrolled_on").dt.strftime(fmt)


def roster_rows(
    seed: int, population: pl.DataFrame, outsider_rates: tuple[float, float]
) -> pl.DataFrame:
    rng = stage_rng(seed, "rosters")
    parts = []
    for insurance, rate in zip(("pension", "medical"), outsider_rates, strict=True):
        records = roster_records(rng, population, insurance=insurance, outsider_rate=rate)
        parts.append(records.with_columns(file=route_roster_file(insurance)))
    records = number_roster_rows(rng, pl.concat(parts))
    per_file = [
        part.with_columns(region_text=region_text(file), enrolled_text=enrolled_on_text(file))
        for (file,), part in records.group_by("file", maintain_order=True)
    ]
    return pl.concat(per_file).with_columns(
        sheet=pl.when(pl.col("file") == F_EMP_PENSION)
        .then(pl.lit("参保人员"))
        .otherwise(pl.lit(None))
    )


# =============================================================================================
# Damage (set-based: rows are picked per kind, and each kind's expression runs on its rows only)
# =============================================================================================
def id_digit_matrix(ids: pl.Series) -> np.ndarray:
    return (
        np.frombuffer("".join(ids.to_list()).encode("ascii"), dtype=np.uint8).reshape(-1, 18).copy()
    )


def matrix_to_ids(matrix: np.ndarray) -> pl.Series:
    return pl.Series(matrix.view("S18").ravel()).cast(pl.String)


def with_wrong_check(rng: np.random.Generator, ids: pl.Series) -> pl.Series:
    m = id_digit_matrix(ids)
    checks = np.frombuffer(CHECK_CHARACTERS.encode(), dtype=np.uint8)
    check_index = np.argmax(m[:, 17:18] == checks[None, :], axis=1)
    m[:, 17] = checks[(check_index + rng.integers(1, 11, m.shape[0])) % 11]
    return matrix_to_ids(m)


def with_typo(rng: np.random.Generator, ids: pl.Series) -> pl.Series:
    """One of the first 17 digits replaced by another digit."""
    m = id_digit_matrix(ids)
    rows = np.arange(m.shape[0])
    pos = rng.integers(0, 17, m.shape[0])
    m[rows, pos] = (m[rows, pos] - 48 + rng.integers(1, 10, m.shape[0])) % 10 + 48
    return matrix_to_ids(m)


def with_swap(rng: np.random.Generator, ids: pl.Series) -> pl.Series:
    """Two differing adjacent digits among the first 17 swapped."""
    m = id_digit_matrix(ids)
    rows = np.arange(m.shape[0])
    differs = m[:, :16] != m[:, 1:17]
    at = np.argmax(np.where(differs, rng.random(differs.shape), -1.0), axis=1)
    left = m[rows, at].copy()
    m[rows, at] = m[rows, at + 1]
    m[rows, at + 1] = left
    return matrix_to_ids(m)


def pick_damage(
    rng: np.random.Generator, eligible: list[np.ndarray], rates: list[float]
) -> np.ndarray:
    """Kind code per row (0 = none, k = k-th kind); every kind reaches MIN_PER_DAMAGE_KIND where
    enough rows are eligible."""
    n = eligible[0].size
    kind = np.zeros(n, dtype=np.int8)
    for code, (ok, rate) in enumerate(zip(eligible, rates, strict=True), start=1):
        kind[ok & (kind == 0) & (rng.random(n) < rate)] = code
    for code, ok in enumerate(eligible, start=1):
        shortfall = MIN_PER_DAMAGE_KIND - int((kind == code).sum())
        free = np.flatnonzero(ok & (kind == 0))
        if shortfall > 0 and free.size:
            kind[rng.choice(free, size=min(shortfall, free.size), replace=False)] = code
    return kind


def id_damage_cases() -> dict[str, pl.Expr]:
    """How each kind of ID damage rewrites the true ID (`_variant` picks a sub-variant)."""
    tid = pl.col("true_id")
    v = pl.col("_variant")
    return {
        "id_outer_space": pl.when(v % 3 == 0)
        .then(" " + tid)
        .when(v % 3 == 1)
        .then(tid + " ")
        .otherwise("  " + tid + " "),
        "id_inner_space": pl.concat_str(
            tid.str.slice(0, 6), pl.lit(" "), tid.str.slice(6, 8), pl.lit(" "), tid.str.slice(14)
        ),
        "id_nbsp": pl.when(v % 2 == 0).then(tid + "\u00a0").otherwise("\u00a0" + tid),
        "id_zero_width": pl.when(v % 3 == 0)
        .then("\u200b" + tid)
        .when(v % 3 == 1)
        .then(tid + "\u200b")
        .otherwise(pl.concat_str(tid.str.slice(0, 9), pl.lit("\u200b"), tid.str.slice(9))),
        "id_bom_char": "\ufeff" + tid,
        "id_fullwidth": tid.str.replace_many(list(FULLWIDTH), list(FULLWIDTH.values())),
        "id_lowercase_x": tid.str.to_lowercase(),
        "id_apostrophe": "'" + tid,
        "id_hyphen": pl.concat_str(
            tid.str.slice(0, 6), pl.lit("-"), tid.str.slice(6, 8), pl.lit("-"), tid.str.slice(14)
        ),
        "id_sci_float": pl.concat_str(
            tid.str.slice(0, 1), pl.lit("."), tid.str.slice(1), pl.lit("e+17")
        ),
        "id_excel_rounded": tid.str.slice(0, 15) + "000",  # Excel keeps 15 digits, zeroes the rest
        "id_legacy15": tid.str.slice(0, 6) + tid.str.slice(8, 9),
        "id_missing": pl.lit(None, dtype=pl.String),
    }


ID_MATRIX_CASES = {
    "id_wrong_check": with_wrong_check,
    "id_digit_typo": with_typo,
    "id_digit_swap": with_swap,
}


def traditional_map() -> dict[str, str]:
    """Character-level 简→繁 for the name pools (whole-name conversion is not needed)."""
    converter = OpenCC("s2t")
    pools = [
        *NINGXIANG_SURNAMES,
        *FENGHUANG_SURNAMES,
        *MALE_GIVEN,
        *FEMALE_GIVEN,
        *MALE_GIVEN_CHARACTERS,
        *FEMALE_GIVEN_CHARACTERS,
    ]
    chars = sorted({c for name in pools for c in name})
    return {c: t for c in chars if (t := converter.convert(c)) != c}


@functools.cache
def homophones() -> dict[str, str]:
    """HOMOPHONES, plus a same-sounding character for the composed names' characters.

    A pinyin input method offers every character of a reading side by side, so a clerk's slip
    lands on one of them: each pool character is paired with the next one of the same toneless
    reading. The crowded names' last characters keep exactly the pairs they had (or none), so
    that model's output does not change.
    """
    pool = list(dict.fromkeys(MALE_GIVEN_CHARACTERS + FEMALE_GIVEN_CHARACTERS))
    by_reading: dict[str, list[str]] = {}
    for character, reading in zip(pool, lazy_pinyin(pool), strict=True):
        by_reading.setdefault(reading, []).append(character)
    crowded_last = {name[-1] for name in MALE_GIVEN + FEMALE_GIVEN}
    derived = {
        character: same[(same.index(character) + 1) % len(same)]
        for same in by_reading.values()
        if len(same) > 1
        for character in same
        if character not in HOMOPHONES and character not in crowded_last
    }
    return HOMOPHONES | derived


def name_damage_cases(s2t: dict[str, str]) -> dict[str, pl.Expr]:
    name = pl.col("true_name")
    v = pl.col("_variant")
    length = name.str.len_chars()
    dot_variant = (
        pl.when(pl.col("_gbk_only"))
        .then(pl.lit(list(DOT_VARIANTS_GBK)).list.get(v % len(DOT_VARIANTS_GBK)))
        .otherwise(pl.lit(list(DOT_VARIANTS)).list.get(v % len(DOT_VARIANTS)))
    )
    position = v % (length - 1) + 1
    return {
        "name_traditional": name.str.replace_many(list(s2t), list(s2t.values())),
        "name_homophone": name.str.slice(0, length - 1) + name.str.slice(-1).replace(homophones()),
        "name_space": pl.concat_str(
            name.str.slice(0, 1), pl.lit(["  ", " ", "\u3000"]).list.get(v % 3), name.str.slice(1)
        ),
        "name_dot_variant": name.str.replace(MIDDLE_DOT, dot_variant, literal=True),
        "name_placeholder": pl.concat_str(
            name.str.slice(0, position),
            pl.lit(list(NAME_PLACEHOLDERS)).list.get(v % 2),
            name.str.slice(position + 1),
        ),
    }


def damage_eligibility(
    rows: pl.DataFrame, s2t: dict[str, str]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Which rows each kind can apply to, in ID_DAMAGE_RATES and NAME_DAMAGE_RATES order."""
    has_birth = (
        rows["file"].replace_strict({f: s.has_birth_date for f, s in FILE_SPECS.items()}).to_numpy()
    )
    gbk_only = rows["_gbk_only"].to_numpy()
    true_id = rows["true_id"]
    ends_x = true_id.str.ends_with("X").to_numpy()
    born_before_1999 = (true_id.str.slice(6, 4).cast(pl.Int32) < 1999).to_numpy()
    everywhere = np.ones(rows.height, dtype=bool)
    id_ok = {k: everywhere for k in ID_DAMAGE_RATES}
    id_ok |= {k: ~gbk_only for k in GBK_UNSAFE_ID_DAMAGE}
    id_ok |= {
        "id_lowercase_x": ends_x,
        "id_sci_float": ~ends_x,
        "id_excel_rounded": ~ends_x,
        "id_legacy15": born_before_1999,
        "id_missing": has_birth,
    }
    name = rows["true_name"]
    dotted = name.str.contains(MIDDLE_DOT, literal=True).to_numpy()
    name_ok = {
        "name_traditional": name.str.contains_any(list(s2t)).to_numpy() & ~dotted,
        "name_homophone": name.str.slice(-1).is_in(list(homophones())).to_numpy() & ~dotted,
        "name_space": ~dotted,
        "name_dot_variant": dotted,
        "name_placeholder": ~dotted & (name.str.len_chars() >= 2).to_numpy(),
    }
    return [id_ok[k] for k in ID_DAMAGE_RATES], [name_ok[k] for k in NAME_DAMAGE_RATES]


def numeric_id_cells(
    rng: np.random.Generator, rows: pl.DataFrame, id_kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which xlsx ID cells are numbers, and what that did to them.

    An 18-digit number typed into Excel keeps 15 significant digits (…000), so every 18-digit
    numeric cell is also id_excel_rounded; a 15-digit legacy number survives exactly. X-ending
    IDs cannot be numbers.
    """
    rounded = list(ID_DAMAGE_RATES).index("id_excel_rounded") + 1
    legacy = list(ID_DAMAGE_RATES).index("id_legacy15") + 1
    share = rows["_numeric_share"].to_numpy()
    in_xlsx = share > 0
    draw = rng.random(rows.height)
    ends_x = rows["true_id"].str.ends_with("X").to_numpy()
    id_kind = id_kind.copy()
    id_kind[in_xlsx & (id_kind == 0) & ~ends_x & (draw < share)] = rounded
    numeric = in_xlsx & ((id_kind == rounded) | ((id_kind == legacy) & (draw < 0.5)))
    return id_kind, numeric


def rewrite_by_kind(
    rng: np.random.Generator,
    rows: pl.DataFrame,
    base: str,
    kind: np.ndarray,
    names: list[str],
    cases: dict[str, pl.Expr],
) -> pl.Series:
    """Start from the true value and overwrite each kind's rows with that kind's rewrite."""
    out = rows[base].clone()
    for code, name in enumerate(names, start=1):
        at = np.flatnonzero(kind == code)
        if at.size == 0:
            continue
        subset = rows[at]
        if name in ID_MATRIX_CASES:
            values = ID_MATRIX_CASES[name](rng, subset["true_id"])
        else:
            values = subset.select(cases[name].alias(base)).to_series()
        out = out.scatter(at, values)
    return out


def kind_labels(kind: np.ndarray, names: list[str]) -> pl.Series:
    return pl.Series(kind.astype(np.int32)).replace_strict(
        list(range(len(names) + 1)), [None, *names], return_dtype=pl.String
    )


def apply_damage(seed: int, rows: pl.DataFrame, stage: str = "damage") -> pl.DataFrame:
    """Write IDs and names as they arrive, with a truth label for every kind of damage.

    Optional Int8 columns `_force_id` and `_force_name` override the draw where they are >= 0:
    0 = undamaged, k = the k-th kind of ID_DAMAGE_RATES / NAME_DAMAGE_RATES (which the caller
    must have checked the row is eligible for). The sample and bench modes never set them.
    """
    rng = stage_rng(seed, stage)
    rows = rows.with_columns(
        _gbk_only=pl.col("file").replace_strict({f: s.gbk_only for f, s in FILE_SPECS.items()}),
        _numeric_share=pl.col("file").replace_strict(
            {f: s.numeric_id_share for f, s in FILE_SPECS.items()}
        ),
    )
    s2t = traditional_map()
    id_ok, name_ok = damage_eligibility(rows, s2t)
    id_names, name_names = list(ID_DAMAGE_RATES), list(NAME_DAMAGE_RATES)
    id_kind = pick_damage(rng, id_ok, list(ID_DAMAGE_RATES.values()))
    name_kind = pick_damage(rng, name_ok, list(NAME_DAMAGE_RATES.values()))
    id_kind, numeric = numeric_id_cells(rng, rows, id_kind)
    if "_force_id" in rows.columns:
        forced = rows["_force_id"].to_numpy()
        id_kind = np.where(forced >= 0, forced, id_kind).astype(np.int8)
        numeric &= forced < 0
    if "_force_name" in rows.columns:
        forced = rows["_force_name"].to_numpy()
        name_kind = np.where(forced >= 0, forced, name_kind).astype(np.int8)
    work = rows.select(
        "true_id", "true_name", "_gbk_only", _variant=pl.Series(rng.integers(0, 60, rows.height))
    )
    id_written = rewrite_by_kind(rng, work, "true_id", id_kind, id_names, id_damage_cases())
    name_written = rewrite_by_kind(
        rng, work, "true_name", name_kind, name_names, name_damage_cases(s2t)
    )
    rows = rows.with_columns(
        id_written=id_written,
        name_written=name_written,
        id_numeric=pl.Series(numeric),
        _id_label=kind_labels(id_kind, id_names),
        _name_label=kind_labels(name_kind, name_names),
    )
    # concat_str + split is ~10x faster than concat_list + drop_nulls on a million rows.
    joined = pl.concat_str(
        "_id_label",
        pl.when("id_numeric").then(pl.lit(ID_NUMERIC_CELL)),
        "_name_label",
        separator=",",
        ignore_nulls=True,
    )
    labels = (
        pl.when(joined == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(joined.str.split(","))
    )
    return rows.with_columns(damage=labels).drop(cs.starts_with("_"))


def inject_bad_rows(
    seed: int, rows: pl.DataFrame, plan: dict[tuple[str, str], int]
) -> pl.DataFrame:
    """Rows validation must quarantine, picked among undamaged rows of the named files."""
    rng = stage_rng(seed, "bad_rows")
    clean = (rows["damage"].list.len() == 0).to_numpy()
    return break_rows(rows, pick_bad_rows(rng, rows["file"].to_numpy(), clean, plan))


def pick_bad_rows(
    rng: np.random.Generator,
    files: np.ndarray,
    eligible: np.ndarray,
    plan: dict[tuple[str, str], int],
) -> np.ndarray:
    """Quarantine reason per row (None for most), drawn among eligible rows of each file."""
    quarantine = np.full(files.size, None, dtype=object)
    for (file, reason), count in plan.items():
        free = np.flatnonzero(eligible & (files == file) & (quarantine == None))  # noqa: E711
        quarantine[rng.choice(free, size=min(count, free.size), replace=False)] = reason
    return quarantine


def break_rows(rows: pl.DataFrame, quarantine: np.ndarray) -> pl.DataFrame:
    """Spoil each row with a quarantine reason the way that reason describes."""
    reason = pl.col("expected_quarantine")
    spoil = {
        "township_text": pl.when(reason == "missing_township")
        .then(pl.lit(None))
        .otherwise("township_text"),
        "category_text": pl.when(reason == "unknown_category")
        .then(pl.lit(UNKNOWN_CATEGORY))
        .otherwise("category_text"),
        "status": pl.when(reason == "unknown_status")
        .then(pl.lit(UNKNOWN_STATUS))
        .otherwise("status"),
        "name_written": pl.when(reason == "missing_name")
        .then(pl.lit(None))
        .otherwise("name_written"),
    }
    return rows.with_columns(expected_quarantine=text_series(quarantine)).with_columns(
        **{column: spoiled for column, spoiled in spoil.items() if column in rows.columns}
    )


def number_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """The row an officer sees: CSV line (header = line 1), or spreadsheet row under title rows."""
    first = pl.col("file").replace_strict({f: s.first_data_row for f, s in FILE_SPECS.items()})
    within = pl.int_range(0, pl.len()).over("file", "sheet", order_by="order_key")
    return rows.with_columns(row=(first + within).cast(pl.Int64))


# =============================================================================================
# Writers
# =============================================================================================
# Encoding name → (byte-order mark, codec). Anything else is a codec name with no BOM.
BOM_ENCODINGS = {
    "utf-8-sig": (b"\xef\xbb\xbf", "utf-8"),
    "utf-16-le-bom": (b"\xff\xfe", "utf-16-le"),
}


def write_text_table(
    table: pl.DataFrame, path: Path, *, encoding: str, separator: str = ",", crlf: bool = False
) -> None:
    """Write a delimited file, encoding slice by slice so a million rows never sit in one str."""
    bom, codec = BOM_ENCODINGS.get(encoding, (b"", encoding))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(bom)
        for i, part in enumerate(table.iter_slices(200_000) if table.height else [table]):
            text = part.write_csv(
                separator=separator,
                line_terminator="\r\n" if crlf else "\n",
                quote_style="necessary",
                include_header=i == 0,
            )
            out.write(text.encode(codec))


def id_cell(rows: pl.DataFrame) -> list[object]:
    """ID cell values: int where the cell is numeric, text otherwise."""
    return [
        int(value) if numeric else value
        for value, numeric in zip(
            rows["id_written"].to_list(), rows["id_numeric"].to_list(), strict=True
        )
    ]


def write_county_system_registry(rows: pl.DataFrame, path: Path) -> None:
    """The registry as the county system exports it (the scale set's 凤凰县 layout): UTF-8 CSV."""
    rows.select(
        序号=pl.int_range(1, pl.len() + 1),
        **{
            "县(市、区)": "county_text",
            "乡(镇、街道)": "township_text",
            "行政村": "village_text",
        },
        户编号="household_key",
        人员姓名="name_written",
        公民身份号码="id_written",
        人编号="person_key",
        性别="sex",
        出生日期="birth_text",
        与户主关系="relation",
        贫困户属性="category_text",
        脱贫属性="exit_text",
        是否在校生="student_text",
    ).write_csv(path)


def write_ningxiang_registry(rows: pl.DataFrame, path: Path) -> None:
    table = rows.select(
        户编号="household_key",
        户主姓名="head_name",
        户主身份证号="head_id",  # trap: the head's ID, not this person's
        与户主关系="relation",
        姓名="name_written",
        证件号码="id_written",
        人员编号="person_key",
        性别="sex",
        出生日期="birth_text",
        县市区="county_text",
        **{"乡镇(街道)": "township_text", "村(社区)": "village_text"},
        行政区划代码="region_code",
        人员类别="category_text",
        脱贫标志="exit_text",
        在校生状况="student_text",
        人员状态="state_text",
    )
    write_text_table(table, path, encoding="gb18030", crlf=True)


def write_dibao(rows: pl.DataFrame, path: Path) -> None:
    table = rows.select(
        **{"户主/成员姓名": "name_written"},
        身份证号码="id_written",
        成员编号="person_key",
        所属县区="county_text",
        乡镇="township_text",
        村="village_text",
        对象类别="category_text",
        是否脱贫="exit_text",
    )
    write_text_table(table, path, encoding="utf-8-sig")


FENGHUANG_HEADERS = (
    "序号",
    "县(市、区)",
    "乡(镇、街道)",
    "行政村",
    "户编号",
    "人员姓名",
    "公民身份号码",
    "人编号",
    "性别",
    "出生日期",
    "与户主关系",
    "贫困户属性",
    "脱贫属性",
    "是否在校生",
)
FENGHUANG_MERGED = ("县(市、区)", "乡(镇、街道)", "行政村", "户编号")


def write_fenghuang_registry(rows: pl.DataFrame, path: Path) -> None:
    """One sheet per township: 2 merged title rows, header, data, 合计 row, 2 footer rows.

    县/乡/村/户编号 are merged vertically over each household (value in the top cell only).
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    width = len(FENGHUANG_HEADERS)
    merged_cols = [FENGHUANG_HEADERS.index(h) + 1 for h in FENGHUANG_MERGED]
    for (sheet,), part in rows.sort("order_key").group_by("sheet", maintain_order=True):
        ws = workbook.create_sheet(sheet)
        ws.append(["凤凰县建档立卡贫困人口花名册"])
        ws.append([f"填报单位：凤凰县{sheet}人民政府    日期：{EXTRACT_DATE_TEXT}"])
        for title_row in (1, 2):
            ws.merge_cells(start_row=title_row, start_column=1, end_row=title_row, end_column=width)
        ws.append(list(FENGHUANG_HEADERS))
        top_of_household = part["household_key"].is_first_distinct().to_list()
        births = [
            d if as_date else text
            for d, text, as_date in zip(
                part["birth_date"].to_list(),
                part["birth_text"].to_list(),
                part["birth_as_excel_date"].to_list(),
                strict=True,
            )
        ]
        cells = zip(
            part["county_text"].to_list(),
            part["township_text"].to_list(),
            part["village_text"].to_list(),
            part["household_key"].to_list(),
            part["name_written"].to_list(),
            id_cell(part),
            part["person_key"].to_list(),
            part["sex"].to_list(),
            births,
            part["relation"].to_list(),
            part["category_text"].to_list(),
            part["exit_text"].to_list(),
            part["student_text"].to_list(),
            strict=True,
        )
        for i, (county, town, village, household, *rest) in enumerate(cells):
            top = top_of_household[i]
            ws.append(
                [i + 1, *(v if top else None for v in (county, town, village, household)), *rest]
            )
        for row in ws.iter_rows(min_row=4, min_col=10, max_col=10):
            if isinstance(row[0].value, dt.date):
                row[0].number_format = "yyyy-mm-dd"
        merge_households(ws, part["household_key"].to_list(), merged_cols)
        ws.append(["合计", None, None, None, None, f"共{part.height}人"])
        ws.append(["制表人：张某  审核人：李某"])
        ws.append([f"填报日期：{EXTRACT_DATE_TEXT}"])
    save_workbook(workbook, path)


def merge_households(ws, household_keys: list[str], columns: list[int]) -> None:
    """Merge each multi-person household's cells vertically (data starts on row 4)."""
    keys = pl.Series(household_keys)
    runs = (
        pl.DataFrame({"key": keys, "row": np.arange(4, 4 + keys.len())})
        .group_by("key", maintain_order=True)
        .agg(first=pl.col("row").min(), last=pl.col("row").max())
    )
    for first, last in (
        runs.filter(pl.col("last") > pl.col("first")).select("first", "last").iter_rows()
    ):
        for col in columns:
            ws.merge_cells(start_row=first, start_column=col, end_row=last, end_column=col)


def write_tekun(rows: pl.DataFrame, path: Path) -> None:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "特困人员"
    ws.append(
        ["姓名", "身份证件号码", "县市区", "乡镇(街道)", "村", "区划代码", "对象类别", "人员状态"]
    )
    region = [
        int(code) if numeric else code
        for code, numeric in zip(
            rows["region_code"].to_list(), rows["region_code_numeric"].to_list(), strict=True
        )
    ]
    for values in zip(
        rows["name_written"].to_list(),
        id_cell(rows),
        rows["county_text"].to_list(),
        rows["township_text"].to_list(),
        rows["village_text"].to_list(),
        region,
        rows["category_text"].to_list(),
        rows["state_text"].to_list(),
        strict=True,
    ):
        ws.append(list(values))
    save_workbook(workbook, path)


def write_employee_pension(rows: pl.DataFrame, path: Path) -> None:
    workbook = Workbook()
    ws = workbook.active
    ws.title = "参保人员"
    headers = ["社保编号", "姓名", "证件号码", "参保险种", "缴费状态", "统筹区"]
    ws.append([f"长沙市、湘西州职工养老保险参保人员名单（截至{EXTRACT_DATE_TEXT}）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append(headers)
    for values in zip(
        rows["roster_person_no"].to_list(),
        rows["name_written"].to_list(),
        id_cell(rows),
        rows["scheme"].to_list(),
        rows["status"].to_list(),
        rows["region_text"].to_list(),
        strict=True,
    ):
        ws.append(list(values))
    save_workbook(workbook, path)


FIXED_DOC_TIME = dt.datetime(2025, 12, 31, 18, 0, 0)


def save_workbook(workbook: Workbook, path: Path, *, reproducible: bool = True) -> None:
    """Save; when reproducible, the same content always gives the same bytes."""
    workbook.properties.created = FIXED_DOC_TIME
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    if reproducible:
        pin_zip_times(path)


def pin_zip_times(path: Path) -> None:
    """openpyxl stamps the save time into docProps/core.xml and every zip entry; pin both."""
    stamp = FIXED_DOC_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            target.writestr(
                zipfile.ZipInfo(name, date_time=FIXED_DOC_TIME.timetuple()[:6]),
                data,
                zipfile.ZIP_DEFLATED,
            )


def write_roster_csvs(rows: pl.DataFrame, out: Path) -> None:
    ningxiang = rows.filter(pl.col("file") == F_NX_PENSION).select(
        个人编号="roster_person_no",
        姓名="name_written",
        身份证号="id_written",
        险种="scheme",
        参保状态="status",
        参保地="region_text",
        参保日期="enrolled_text",
    )
    write_text_table(ningxiang, out / F_NX_PENSION, encoding="utf-8")
    fenghuang = rows.filter(pl.col("file") == F_FH_PENSION).select(
        人员编号="roster_person_no",
        姓名="name_written",
        公民身份号码="id_written",
        险种类型="scheme",
        人员参保状态="status",
        参保地区划代码="region_text",
        参保时间="enrolled_text",
    )
    write_text_table(fenghuang, out / F_FH_PENSION, encoding="gb18030", separator="\t", crlf=True)
    employee_medical = rows.filter(pl.col("file") == F_EMP_MEDICAL).select(
        个人编号="roster_person_no",
        姓名="name_written",
        身份证号码="id_written",
        险种="scheme",
        参保状态="status",
    )
    write_text_table(employee_medical, out / F_EMP_MEDICAL, encoding="utf-16-le-bom", crlf=True)
    resident_medical = rows.filter(pl.col("file") == F_RES_MEDICAL).select(
        参保人编号="roster_person_no",
        姓名="name_written",
        证件号码="id_written",
        险种="scheme",
        参保状态="status",
        参保日期="enrolled_text",
    )
    (out / F_RES_MEDICAL).parent.mkdir(parents=True, exist_ok=True)
    resident_medical.write_parquet(out / F_RES_MEDICAL)


# =============================================================================================
# Truth
# =============================================================================================
def persons_truth(population: pl.DataFrame) -> pl.DataFrame:
    everyone = population.group_by("name", "birth_date", "county_code").agg(n=pl.len())
    return (
        population.filter(pl.col("is_registry"))
        .join(everyone, on=["name", "birth_date", "county_code"], how="left", maintain_order="left")
        .sort("pid")
        .select(
            "person_uid",
            "id",
            "name",
            "sex",
            "birth_date",
            county="county_name",
            county_code="county_code",
            township="township_name",
            township_code="township_code",
            village="village_name",
            village_code="village_code",
            household="household_no",
            relation="relation",
            categories="categories",
            exit="poverty_exit",
            student="student",
            person_state="person_state",
            id_address_code="address_code",
            shares_name_birth_county=pl.col("n") > 1,
        )
    )


TRUTH_ROW_COLUMNS = (
    "file",
    "sheet",
    "row",
    "person_uid",
    "id_written",
    "id_numeric",
    "name_written",
    "damage",
    "expected_quarantine",
)


def registry_rows_truth(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.sort("file", "sheet", "row").select(
        *TRUTH_ROW_COLUMNS[:4], "person_key", *TRUTH_ROW_COLUMNS[4:], "category_text"
    )


def roster_rows_truth(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.sort("file", "sheet", "row").select(
        *TRUTH_ROW_COLUMNS[:3],
        "roster_person_no",
        "person_uid",
        "true_id",
        "true_name",
        "insurance",
        "scheme",
        "status",
        *TRUTH_ROW_COLUMNS[4:],
    )


# =============================================================================================
# Orchestration
# =============================================================================================
def registry_row_table(seed: int, registry: pl.DataFrame) -> pl.DataFrame:
    rng = stage_rng(seed, "registry_rows")
    parts = [
        ningxiang_registry_rows(rng, registry),
        fenghuang_registry_rows(rng, registry),
        dibao_rows(registry),
        tekun_rows(rng, registry),
    ]
    parts = [p.with_columns(order_key=pl.int_range(0, pl.len())) for p in parts]
    return pl.concat(parts, how="diagonal_relaxed")


def attach_truth_columns(rows: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    people = population.select("pid", "person_uid", true_id="id", true_name="name")
    return rows.join(people, on="pid", how="left", maintain_order="left")


def generate_sample(out: Path, people: int = 3000, seed: int = 20171) -> dict[str, int]:
    """Write the committed sample (registry, rosters, truth) and return rows per file."""
    villages = choose_villages(seed)
    # Roster-only people make each roster about three times the registry, as in a real county.
    population = build_population(seed, people, round(2.8 * people), villages)
    registry = population.filter(pl.col("is_registry"))
    reg_rows = attach_truth_columns(registry_row_table(seed, registry), population)
    ros_rows = roster_rows(seed, population, outsider_rates=(0.88, 0.75))
    ros_rows = attach_truth_columns(
        ros_rows.with_columns(order_key=pl.int_range(0, pl.len()).over("file")), population
    )
    rows = pl.concat(
        [
            reg_rows.with_columns(kind=pl.lit("registry")),
            ros_rows.with_columns(kind=pl.lit("roster")),
        ],
        how="diagonal_relaxed",
    ).with_row_index("row_id")
    rows = inject_bad_rows(seed, apply_damage(seed, rows), BAD_ROWS)
    rows = number_rows(rows)
    registry_out = rows.filter(pl.col("kind") == "registry")
    roster_out = rows.filter(pl.col("kind") == "roster")

    counts: dict[str, int] = {}
    writers = {
        F_NX_REGISTRY: write_ningxiang_registry,
        F_FH_REGISTRY: write_fenghuang_registry,
        F_DIBAO: write_dibao,
        F_TEKUN: write_tekun,
        F_EMP_PENSION: write_employee_pension,
    }
    for file, writer in writers.items():
        part = rows.filter(pl.col("file") == file).sort("order_key")
        writer(part, out / file)
        counts[file] = part.height
        report(f"wrote {file} ({part.height} rows)")
    write_roster_csvs(roster_out.sort("file", "order_key"), out)
    for file in (F_NX_PENSION, F_FH_PENSION, F_RES_MEDICAL, F_EMP_MEDICAL):
        counts[file] = roster_out.filter(pl.col("file") == file).height
        report(f"wrote {file} ({counts[file]} rows)")

    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("persons.parquet", persons_truth(population)),
        ("registry_rows.parquet", registry_rows_truth(registry_out)),
        ("roster_rows.parquet", roster_rows_truth(roster_out)),
    ):
        table.write_parquet(truth / name)
        counts[f"truth/{name}"] = table.height
        report(f"wrote truth/{name} ({table.height} rows)")
    return counts


# ---------------------------------------------------------------------------------------------
# Benchmark sizes
# ---------------------------------------------------------------------------------------------
BENCH_REGISTRY_HEADERS = (
    "姓名",
    "证件号码",
    "人员编号",
    "户编号",
    "性别",
    "出生日期",
    "县市区",
    "乡镇(街道)",
    "村(社区)",
    "行政区划代码",
    "人员类别",
    "脱贫标志",
    "在校生状况",
    "人员状态",
)


def bench_rows(seed: int, roster_rows_wanted: int, registry_rows_wanted: int) -> pl.DataFrame:
    villages = choose_villages(seed)
    # About 0.67 pension records per outsider (82% are 16+, 88% of those enrolled, a few extra).
    outsiders = int(max(roster_rows_wanted - 0.7 * registry_rows_wanted, 0) / 0.6) + 1000
    population = build_population(seed, registry_rows_wanted, outsiders, villages)
    registry = population.filter(pl.col("is_registry"))
    rng = stage_rng(seed, "bench")
    reg = (
        registry.with_columns(student_text=school_text(rng, registry))
        .sort("township_code", "village_code", "household_no", "rank")
        .select(
            "pid",
            file=pl.lit(F_BENCH_REGISTRY),
            sheet=pl.lit("花名册"),
            person_key="person_key",
            household_key="household_no",
            sex="sex",
            birth_text=birth_text(),
            county_text="county_name",
            township_text="township_name",
            village_text="village_name",
            region_code="village_code",
            category_text=pl.col("categories").list.join("、"),
            exit_text="poverty_exit",
            student_text="student_text",
            state_text="person_state",
        )
    )
    records = roster_records(rng, population, insurance="pension", outsider_rate=0.88)
    # Keep every registry person's records, fill up to the wanted size with outsiders.
    records = (
        records.join(population.select("pid", "is_registry"), on="pid")
        .with_columns(_shuffle=pl.Series(rng.permutation(records.height)))
        .sort(pl.col("is_registry").not_(), "_shuffle")
        .head(roster_rows_wanted)
    )
    if records.height < roster_rows_wanted:
        raise RuntimeError("bench population too small for the wanted roster size")
    records = number_roster_rows(
        rng, records.drop("is_registry").with_columns(file=pl.lit(F_BENCH_ROSTER))
    )
    records = records.with_columns(
        sheet=pl.lit(None, dtype=pl.String),
        region_text=pl.col("roster_county").replace_strict(COUNTY_NAMES),
        enrolled_text=enrolled_on_text(F_BENCH_ROSTER),
    )
    rows = pl.concat(
        [
            reg.with_columns(order_key=pl.int_range(0, pl.len())),
            records.with_columns(order_key=pl.int_range(0, pl.len())),
        ],
        how="diagonal_relaxed",
    )
    rows = attach_truth_columns(rows, population)
    rows = inject_bad_rows(seed, apply_damage(seed, rows), BENCH_BAD_ROWS)
    return number_rows(rows)


def write_bench_registry(rows: pl.DataFrame, path: Path) -> None:
    """100k-row registry in openpyxl write-only mode: a title row, then the header."""
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("花名册")
    ws.append(["宁乡市、凤凰县建档立卡贫困人口花名册（基准测试）"])
    ws.append(list(BENCH_REGISTRY_HEADERS))
    columns = [
        rows["name_written"].to_list(),
        id_cell(rows),
        rows["person_key"].to_list(),
        rows["household_key"].to_list(),
        rows["sex"].to_list(),
        rows["birth_text"].to_list(),
        rows["county_text"].to_list(),
        rows["township_text"].to_list(),
        rows["village_text"].to_list(),
        rows["region_code"].to_list(),
        rows["category_text"].to_list(),
        rows["exit_text"].to_list(),
        rows["student_text"].to_list(),
        rows["state_text"].to_list(),
    ]
    for values in zip(*columns, strict=True):
        ws.append(values)
    save_workbook(workbook, path, reproducible=False)


def generate_bench(out: Path, rows_wanted: int, xlsx_rows: int, seed: int) -> dict[str, int]:
    started = time.perf_counter()
    rows = bench_rows(seed, rows_wanted, xlsx_rows)
    report(f"built {rows.height} rows in {time.perf_counter() - started:.1f}s")
    roster = (
        rows.filter(pl.col("file") == F_BENCH_ROSTER)
        .sort("row")
        .select(
            个人编号="roster_person_no",
            姓名="name_written",
            身份证号="id_written",
            险种="scheme",
            参保状态="status",
            参保地="region_text",
            参保日期="enrolled_text",
        )
    )
    write_text_table(roster, out / F_BENCH_ROSTER, encoding="gb18030", crlf=True)
    report(f"wrote {F_BENCH_ROSTER} ({roster.height} rows, {time.perf_counter() - started:.1f}s)")
    registry = rows.filter(pl.col("file") == F_BENCH_REGISTRY).sort("row")
    write_bench_registry(registry, out / F_BENCH_REGISTRY)
    report(
        f"wrote {F_BENCH_REGISTRY} ({registry.height} rows, {time.perf_counter() - started:.1f}s)"
    )
    return {F_BENCH_ROSTER: roster.height, F_BENCH_REGISTRY: registry.height}


# =============================================================================================
# Scale mode: the same people, damage and truth at 10k-1M registry people, fast formats only
# =============================================================================================
# Outsider enrolment rates (pension: of people aged 16+; medical: of everyone).
SCALE_OUTSIDER_RATES = (0.95, 0.90)
# Roster records per registry person (about 0.7 pension and 1.05 medical, measured).
SCALE_REGISTRY_RECORDS_PER_PERSON = 1.75
# Roster rows are damaged and written in chunks of about this many rows (bounded memory).
SCALE_CHUNK_ROWS = 2_000_000
# Each deliberate hard case involves about this share of registry people.
HARD_CASE_RATE = 0.005
# ID damage a matcher may repair or must send to review: the ID is near, not equal.
NEAR_MISS_ID_DAMAGE = ("id_wrong_check", "id_digit_typo", "id_digit_swap", "id_excel_rounded")
HC_NAMESAKE = "namesake_same_birth_county"
HC_NAMESAKE_DECOY = "namesake_decoy"
HC_REISSUED = "reissued_id"
HC_TERMINATED_WITH_ACTIVE = "terminated_with_active"
HC_TERMINATED_ONLY = "terminated_only"
HARD_CASE_LABELS = (
    HC_NAMESAKE,
    HC_NAMESAKE_DECOY,
    HC_REISSUED,
    HC_TERMINATED_WITH_ACTIVE,
    HC_TERMINATED_ONLY,
)
HC_BIT = {label: np.uint8(1 << k) for k, label in enumerate(HARD_CASE_LABELS)}
INSURANCES = ("pension", "medical")
SCALE_REGISTRY_FILES = (F_NX_REGISTRY, S_FH_REGISTRY, F_DIBAO, S_TEKUN)
SCALE_ROSTER_FILES = tuple(
    sorted((F_NX_PENSION, S_FH_PENSION, S_EMP_PENSION, F_RES_MEDICAL, F_EMP_MEDICAL))
)
ROSTER_FILE_CODE = {file: code for code, file in enumerate(SCALE_ROSTER_FILES)}
# Bad rows per 10,000 registry people (at least the listed count).
SCALE_BAD_ROWS: dict[tuple[str, str], int] = {
    (F_NX_REGISTRY, "missing_township"): 2,
    (F_DIBAO, "missing_township"): 1,
    (F_NX_REGISTRY, "unknown_category"): 1,
    (S_FH_REGISTRY, "unknown_category"): 1,
    (S_TEKUN, "unknown_category"): 1,
    (F_NX_PENSION, "unknown_status"): 2,
    (S_FH_PENSION, "unknown_status"): 1,
    (F_RES_MEDICAL, "unknown_status"): 1,
    (F_NX_PENSION, "missing_name"): 1,
    (F_RES_MEDICAL, "missing_name"): 1,
    (F_EMP_MEDICAL, "missing_name"): 1,
}
QUARANTINE_REASONS = (None, "unknown_status", "missing_name")
# Roster file → (encoding or "parquet", header → column).
SCALE_ROSTER_LAYOUT: dict[str, tuple[str, dict[str, str]]] = {
    F_NX_PENSION: (
        "utf-8",
        {
            "个人编号": "roster_person_no",
            "姓名": "name_written",
            "身份证号": "id_written",
            "险种": "scheme",
            "参保状态": "status",
            "参保地": "region_text",
            "参保日期": "enrolled_text",
        },
    ),
    S_FH_PENSION: (
        "parquet",
        {
            "人员编号": "roster_person_no",
            "姓名": "name_written",
            "公民身份号码": "id_written",
            "险种类型": "scheme",
            "人员参保状态": "status",
            "参保地区划代码": "region_text",
            "参保时间": "enrolled_text",
        },
    ),
    S_EMP_PENSION: (
        "utf-8",
        {
            "社保编号": "roster_person_no",
            "姓名": "name_written",
            "证件号码": "id_written",
            "参保险种": "scheme",
            "缴费状态": "status",
            "统筹区": "region_text",
        },
    ),
    F_RES_MEDICAL: (
        "parquet",
        {
            "参保人编号": "roster_person_no",
            "姓名": "name_written",
            "证件号码": "id_written",
            "险种": "scheme",
            "参保状态": "status",
            "参保日期": "enrolled_text",
        },
    ),
    F_EMP_MEDICAL: (
        "utf-8-sig",
        {
            "个人编号": "roster_person_no",
            "姓名": "name_written",
            "身份证号码": "id_written",
            "险种": "scheme",
            "参保状态": "status",
        },
    ),
}


def scale_outsider_count(people: int, ratio: float) -> int:
    """Outsiders needed for about ratio x people roster rows in all."""
    ages, weights = outsider_age_weights()
    adult_share = float(weights[ages >= 16].sum())
    pension, medical = SCALE_OUTSIDER_RATES
    # ~5% of active records come with an extra terminated one.
    per_outsider = (adult_share * pension + medical) * 1.05
    wanted = (ratio - SCALE_REGISTRY_RECORDS_PER_PERSON) * people / per_outsider
    return max(round(wanted), people // 10 + 100)


def hard_case_count(people: int) -> int:
    return max(MIN_PER_DAMAGE_KIND, round(HARD_CASE_RATE * people))


def reissue_ids(rng: np.random.Generator, population: pl.DataFrame, people: int) -> pl.DataFrame:
    """Give some outsiders a registry person's ID number: a re-issued (duplicated) number.

    The outsider takes the number with what it encodes (birth date, sex, address code, county)
    but keeps a different name. `reissued_from` holds the registry person's pid.
    """
    n = population.height
    male = population["male"].to_numpy()
    registry = np.arange(n) < people
    k = hard_case_count(people)
    sources = np.sort(rng.choice(people, size=k, replace=False))
    targets = np.empty(k, dtype=np.int64)
    for sex in (True, False):
        wanted = male[sources] == sex
        pool = np.flatnonzero(~registry & (male == sex))
        targets[wanted] = rng.choice(pool, size=int(wanted.sum()), replace=False)
    names = population["name"]
    differ = (names.gather(sources) != names.gather(targets)).to_numpy()
    sources, targets = sources[differ], targets[differ]
    copied = ("id", "birth_date", "male", "sex", "county_code", "county_name", "address_code")
    return population.with_columns(
        *(population[c].clone().scatter(targets, population[c].gather(sources)) for c in copied),
        reissued_from=pl.Series(np.full(n, -1, dtype=np.int64)).scatter(targets, sources),
    ).with_columns(age=age_on(pl.col("birth_date"), EXTRACT_DATE))


def scale_registry_rows(seed: int, population: pl.DataFrame, people: int) -> pl.DataFrame:
    """Registry rows as the default mode draws them, damaged and numbered, in --scale files."""
    registry = population.head(people)
    rows = registry_row_table(seed, registry).with_columns(
        file=pl.col("file").replace({F_FH_REGISTRY: S_FH_REGISTRY, F_TEKUN: S_TEKUN}),
        sheet=pl.lit(None, dtype=pl.String),
    )
    rows = apply_damage(seed, attach_truth_columns(rows, registry), stage="scale_registry_damage")
    plan = scaled_bad_rows(people, SCALE_REGISTRY_FILES)
    return number_rows(inject_bad_rows(seed, rows, plan))


def scaled_bad_rows(people: int, files: tuple[str, ...]) -> dict[tuple[str, str], int]:
    factor = max(1, round(people / 10_000))
    return {key: count * factor for key, count in SCALE_BAD_ROWS.items() if key[0] in files}


def write_scale_registry(rows: pl.DataFrame, out: Path) -> dict[str, int]:
    counts = {}
    for file in SCALE_REGISTRY_FILES:
        part = rows.filter(pl.col("file") == file).sort("order_key")
        path = out / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if file == F_NX_REGISTRY:
            write_ningxiang_registry(part, path)
        elif file == F_DIBAO:
            write_dibao(part, path)
        elif file == S_FH_REGISTRY:
            write_county_system_registry(part, path)
        else:
            part.select(
                姓名="name_written",
                身份证件号码="id_written",
                县市区="county_text",
                **{"乡镇(街道)": "township_text", "村": "village_text"},
                区划代码="region_code",
                对象类别="category_text",
                人员状态="state_text",
            ).write_parquet(path)
        counts[file] = part.height
    return counts


def scale_roster_codes(
    seed: int, population: pl.DataFrame, resident_pension: int | None = None
) -> pl.DataFrame:
    """Every roster record as small codes, in file order (files by name) and numbered.

    Resident pension records go to the file coded `resident_pension` (the province generator's
    one file per county), or else to 宁乡's or 凤凰's by where the person lives. Strings are made
    chunk by chunk later: gathering ten million strings is what is slow.
    """
    rng = stage_rng(seed, "scale_rosters")
    code = ROSTER_FILE_CODE
    parts = []
    for insurance, (name, rate) in enumerate(zip(INSURANCES, SCALE_OUTSIDER_RATES, strict=True)):
        records = roster_record_codes(rng, population, insurance=name, outsider_rate=rate)
        scheme = records["scheme_code"].to_numpy()
        if name == "pension":
            if resident_pension is None:
                in_ningxiang = records["in_ningxiang"].to_numpy()
                resident = np.where(in_ningxiang, code[F_NX_PENSION], code[S_FH_PENSION])
            else:
                resident = np.full(scheme.size, resident_pension)
            file = np.where(scheme != 0, code[S_EMP_PENSION], resident)
        else:
            file = np.where(scheme == 0, code[F_RES_MEDICAL], code[F_EMP_MEDICAL])
        parts.append(
            records.select(
                "pid",
                "in_ningxiang",
                "enrolled_on",
                pl.col("scheme_code").cast(pl.Int8),
                pl.col("status_code").cast(pl.Int8),
                insurance=pl.lit(insurance, dtype=pl.UInt8),
                file_code=pl.Series(file.astype(np.uint8)),
            )
        )
    records = pl.concat(parts)
    file = records["file_code"].to_numpy()
    order = np.lexsort((rng.permutation(records.height), file))
    counts = np.bincount(file, minlength=len(SCALE_ROSTER_FILES))
    within = np.arange(file.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return records[order].with_columns(within=pl.Series(within, dtype=pl.UInt32))


def near_miss_kinds(rng: np.random.Generator, true_ids: pl.Series) -> np.ndarray:
    """An ID damage code (1-based, ID_DAMAGE_RATES order) that leaves the ID near the truth."""
    names = list(ID_DAMAGE_RATES)
    choice = rng.integers(0, len(NEAR_MISS_ID_DAMAGE), true_ids.len())
    kinds = np.array([names.index(k) + 1 for k in NEAR_MISS_ID_DAMAGE], dtype=np.int8)[choice]
    # A number rounded by Excel cannot have ended in X.
    ends_x = true_ids.str.ends_with("X").to_numpy()
    kinds[ends_x & (kinds == names.index("id_excel_rounded") + 1)] = (
        names.index("id_wrong_check") + 1
    )
    return kinds


def mark_hard_cases(
    seed: int, codes: pl.DataFrame, population: pl.DataFrame, people: int
) -> pl.DataFrame:
    """Pick and label the hard cases on roster records, and the quarantine rows.

    Adds hard_case_bits (HC_BIT), _force_id / _force_name (see apply_damage), decoy_pid
    (the registry person a trap record must not be matched to) and quarantine (code into
    QUARANTINE_REASONS).
    """
    rng = stage_rng(seed, "scale_hard_cases")
    n = codes.height
    pid = codes["pid"].to_numpy().astype(np.int64)
    bits = np.zeros(n, dtype=np.uint8)
    force_id = np.full(n, -1, dtype=np.int8)
    force_name = np.full(n, -1, dtype=np.int8)
    decoy_pid = np.full(n, -1, dtype=np.int64)

    # (a) Namesakes: same name, birth date and county; the registry person's record carries a
    # near-miss ID and the other person's record a valid one.
    key = ["name", "birth_date", "county_code"]
    groups = (
        population.lazy()
        .select("pid", *key)
        .group_by(key)
        .agg("pid")
        .filter(pl.col("pid").list.len() > 1, pl.col("pid").list.min() < people)
        .select(group=pl.col("pid").list.min(), pid=pl.col("pid"))
        .explode("pid")
        .collect()
    )
    rows = (
        codes.select("pid", "insurance")
        .with_row_index("at")
        .join(groups, on="pid", how="inner")
        .sort("at")
    )
    candidates = (
        rows.filter(pl.col("pid") < people, pl.col("pid").n_unique().over("group", "insurance") > 1)
        .select("pid", "group", "insurance")
        .unique()
        .sort("pid", "insurance")
    )
    targets = (
        candidates[rng.permutation(candidates.height)]
        .unique(subset=["group", "insurance"], keep="first", maintain_order=True)
        .head(hard_case_count(people))
    )
    in_case = rows.join(
        targets.select("group", "insurance", target="pid"), on=["group", "insurance"]
    ).sort("at")
    target_at = in_case.filter(pl.col("pid") == pl.col("target"))["at"].to_numpy()
    decoys = in_case.filter(pl.col("pid") != pl.col("target"))
    decoy_at = decoys["at"].to_numpy()
    bits[target_at] |= HC_BIT[HC_NAMESAKE]
    force_id[target_at] = near_miss_kinds(rng, population["id"].gather(pid[target_at]))
    force_name[target_at] = 0
    bits[decoy_at] |= HC_BIT[HC_NAMESAKE_DECOY]
    force_id[decoy_at] = 0
    force_name[decoy_at] = 0
    decoy_pid[decoy_at] = decoys["target"].to_numpy()

    # (b) Re-issued numbers: every record of an outsider who carries a registry person's ID.
    reissued_from = population["reissued_from"].to_numpy()[pid]
    reissued = reissued_from >= 0
    bits[reissued] |= HC_BIT[HC_REISSUED]
    force_id[reissued] = 0
    decoy_pid[reissued & (decoy_pid < 0)] = reissued_from[reissued & (decoy_pid < 0)]

    # Quarantine rows: among records that are no hard case, written undamaged.
    files = codes["file_code"].to_numpy()
    plan = {
        (ROSTER_FILE_CODE[file], reason): count
        for (file, reason), count in scaled_bad_rows(people, SCALE_ROSTER_FILES).items()
    }
    reasons = pick_bad_rows(stage_rng(seed, "scale_bad_rows"), files, bits == 0, plan)
    quarantine = np.zeros(n, dtype=np.uint8)
    for code, reason in enumerate(QUARANTINE_REASONS[1:], start=1):
        quarantine[reasons == reason] = code
    force_id[quarantine > 0] = 0
    force_name[quarantine > 0] = 0

    # (c) Terminated records of registry people, next to an active record or alone.
    status = codes["status_code"].to_numpy()
    terminated = status >= FIRST_TERMINATED
    own = (
        pl.DataFrame(
            {
                "at": np.flatnonzero(pid < people),
                "pid": pid[pid < people],
                "insurance": codes["insurance"].to_numpy()[pid < people],
                "terminated": terminated[pid < people] & (quarantine[pid < people] == 0),
                "active": (~terminated & (quarantine == 0))[pid < people],
            }
        )
        .with_columns(with_active=pl.col("active").any().over("pid", "insurance"))
        .filter("terminated")
    )
    with_active = own["with_active"].to_numpy()
    at = own["at"].to_numpy()
    bits[at[with_active]] |= HC_BIT[HC_TERMINATED_WITH_ACTIVE]
    bits[at[~with_active]] |= HC_BIT[HC_TERMINATED_ONLY]

    return codes.with_columns(
        hard_case_bits=pl.Series(bits),
        _force_id=pl.Series(force_id),
        _force_name=pl.Series(force_name),
        decoy_pid=pl.Series(decoy_pid),
        quarantine=pl.Series(quarantine),
    )


def hard_case_list(bits: pl.Expr) -> pl.Expr:
    """HC_BIT bits → list of labels (empty list for none)."""
    joined = pl.concat_str(
        *(pl.when((bits & int(bit)) != 0).then(pl.lit(label)) for label, bit in HC_BIT.items()),
        separator=",",
        ignore_nulls=True,
    )
    return (
        pl.when(joined == "")
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(joined.str.split(","))
    )


def region_values() -> tuple[str, ...]:
    """参保地 / 统筹区 text, indexed by file code * 2 + in_ningxiang (as region_text())."""
    values = []
    for file in SCALE_ROSTER_FILES:
        for county in (FENGHUANG, NINGXIANG):
            if file == F_NX_PENSION:
                values.append(COUNTY_NAMES[county])
            elif file == S_FH_PENSION:
                values.append(county)
            else:
                values.append(CITY_NAMES[county])
    return tuple(values)


SCALE_ROSTER_TRUTH_COLUMNS = (
    "file",
    "sheet",
    "row",
    "roster_person_no",
    "person_uid",
    "true_id",
    "true_name",
    "insurance",
    "scheme",
    "status",
    "id_written",
    "id_numeric",
    "name_written",
    "damage",
    "expected_quarantine",
    "hard_case",
    "decoy_for",
)


def scale_roster_chunk(
    seed: int, index: int, codes: pl.DataFrame, lookup: pl.DataFrame
) -> pl.DataFrame:
    """Damage, spoil and spell out one chunk of roster records (lookup row = pid)."""
    pid = codes["pid"].to_numpy()
    file_code = codes["file_code"].to_numpy().astype(np.int64)
    insurance = codes["insurance"].to_numpy().astype(np.int64)
    decoy = codes["decoy_pid"].to_numpy()
    rows = pl.concat([codes, lookup[pid]], how="horizontal").with_columns(
        file=decode(file_code, SCALE_ROSTER_FILES)
    )
    rows = apply_damage(seed, rows, stage=f"scale_roster_damage_{index}")
    prefixes = tuple(ROSTER_NUMBER_PREFIX[file] for file in SCALE_ROSTER_FILES)
    first_rows = np.array([FILE_SPECS[file].first_data_row for file in SCALE_ROSTER_FILES])
    rows = rows.with_columns(
        first_row=pl.Series(first_rows[file_code]),
        prefix=decode(file_code, prefixes),
        scheme=decode(
            insurance * 3 + codes["scheme_code"].to_numpy(), PENSION_SCHEMES + MEDICAL_SCHEMES
        ),
        status=decode(codes["status_code"].to_numpy(), ROSTER_STATUSES),
        insurance=decode(insurance, INSURANCES),
        region_text=decode(file_code * 2 + codes["in_ningxiang"].to_numpy(), region_values()),
        expected_quarantine=decode(codes["quarantine"].to_numpy(), QUARANTINE_REASONS),
        decoy_for=pl.when(pl.Series(decoy >= 0)).then(
            lookup["person_uid"].gather(np.maximum(decoy, 0))
        ),
    )
    reason = pl.col("expected_quarantine")
    number = (pl.col("within").cast(pl.Int64) + 1) * 7 + 10_000  # gaps, as after deletions
    fenghuang = pl.col("file_code") == ROSTER_FILE_CODE[S_FH_PENSION]
    enrolled = pl.col("enrolled_on")
    return rows.select(
        "file",
        "file_code",
        sheet=pl.lit(None, dtype=pl.String),
        row=pl.col("within").cast(pl.Int64) + pl.col("first_row"),
        roster_person_no=pl.col("prefix") + number.cast(pl.String).str.zfill(8),
        person_uid="person_uid",
        true_id="true_id",
        true_name="true_name",
        insurance="insurance",
        scheme="scheme",
        status=pl.when(reason == "unknown_status").then(pl.lit(UNKNOWN_STATUS)).otherwise("status"),
        id_written="id_written",
        id_numeric="id_numeric",
        name_written=pl.when(reason == "missing_name").then(pl.lit(None)).otherwise("name_written"),
        damage="damage",
        expected_quarantine=reason,
        hard_case=hard_case_list(pl.col("hard_case_bits")),
        decoy_for="decoy_for",
        region_text="region_text",
        enrolled_text=pl.when(fenghuang)
        .then(enrolled.dt.strftime("%Y%m%d"))
        .otherwise(enrolled.dt.strftime("%Y-%m-%d")),
    )


class ChunkWriter:
    """Appends chunks to CSV files (header once) and Parquet files (one row group a chunk)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.csv: dict[str, BinaryIO] = {}
        self.parquet: dict[str, pq.ParquetWriter] = {}

    def write(self, file: str, table: pl.DataFrame, encoding: str) -> None:
        path = self.out / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if encoding == "parquet":
            arrow = table.to_arrow()
            if file not in self.parquet:
                self.parquet[file] = pq.ParquetWriter(path, arrow.schema, compression="zstd")
            self.parquet[file].write_table(arrow)
            return
        first = file not in self.csv
        if first:
            self.csv[file] = path.open("wb")
            self.csv[file].write(BOM_ENCODINGS.get(encoding, (b"", encoding))[0])
        table.write_csv(self.csv[file], include_header=first)

    def close(self) -> None:
        for handle in self.csv.values():
            handle.close()
        for writer in self.parquet.values():
            writer.close()


def coverage_truth_records(chunk: pl.DataFrame) -> pl.DataFrame:
    """What coverage_truth needs of a chunk of roster records: registry people's own records and
    the decoys built for them, in the columns it reads (a chunk at a time: bounded memory)."""
    return chunk.filter(
        pl.col("person_uid").is_not_null() | pl.col("decoy_for").is_not_null()
    ).select(
        "person_uid",
        "decoy_for",
        "insurance",
        "roster_person_no",
        "status",
        "expected_quarantine",
        "hard_case",
    )


def coverage_truth(persons: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """One row per registry person per insurance: their own records and the traps near them."""
    usable = pl.col("expected_quarantine").is_null()
    active = ~pl.col("status").is_in([*TERMINATED_STATUSES, UNKNOWN_STATUS]) & usable
    own = (
        records.filter(pl.col("person_uid").is_not_null())
        .group_by("person_uid", "insurance")
        .agg(
            roster_person_nos=pl.col("roster_person_no"),
            statuses=pl.col("status"),
            has_active_record=active.any(),
            own_cases=pl.col("hard_case").list.explode(keep_nulls=False, empty_as_null=False),
        )
    )
    traps = (
        records.filter(pl.col("decoy_for").is_not_null())
        .group_by(pl.col("decoy_for").alias("person_uid"), "insurance")
        .agg(
            decoy_roster_person_nos=pl.col("roster_person_no"),
            reissued=pl.col("hard_case").list.contains(HC_REISSUED).any(),
        )
    )
    empty = pl.lit([], dtype=pl.List(pl.String))
    return (
        persons.select("person_uid")
        .join(pl.DataFrame({"insurance": INSURANCES}), how="cross")
        .join(own, on=["person_uid", "insurance"], how="left")
        .join(traps, on=["person_uid", "insurance"], how="left")
        .sort("person_uid", "insurance")
        .select(
            "person_uid",
            "insurance",
            roster_person_nos=pl.col("roster_person_nos").fill_null(empty),
            statuses=pl.col("statuses").fill_null(empty),
            has_active_record=pl.col("has_active_record").fill_null(False),
            decoy_roster_person_nos=pl.col("decoy_roster_person_nos").fill_null(empty),
            hard_case=pl.concat_list(
                pl.col("own_cases").fill_null(empty).list.drop_nulls(),
                pl.when(pl.col("reissued").fill_null(False))
                .then(pl.lit([HC_REISSUED]))
                .otherwise(empty),
            ).list.unique(maintain_order=True),
        )
    )


def generate_scale(
    out: Path, people: int, ratio: float = 14.0, seed: int = 20171, names: str = "realistic"
) -> dict[str, int]:
    """Write benchmark-size extracts (CSV and Parquet only) with truth; return rows per file."""
    started = time.perf_counter()

    def progress(message: str) -> None:
        report(f"{message} ({time.perf_counter() - started:.1f}s)")

    villages = choose_villages(seed)
    outsiders = scale_outsider_count(people, ratio)
    population = build_population(seed, people, outsiders, villages, names)
    pids = population["pid"]
    if not (pids.is_sorted() and pids[0] == 0 and pids[-1] == population.height - 1):
        raise RuntimeError("population rows are expected in pid order")
    population = reissue_ids(stage_rng(seed, "scale_reissue"), population, people)
    progress(f"built {people} registry people and {outsiders} outsiders")

    counts: dict[str, int] = {}
    truth = out / "truth"
    truth.mkdir(parents=True, exist_ok=True)
    persons = persons_truth(population)
    reg_rows = scale_registry_rows(seed, population, people)
    counts |= write_scale_registry(reg_rows, out)
    for name, table in (
        ("persons.parquet", persons),
        ("registry_rows.parquet", registry_rows_truth(reg_rows)),
    ):
        table.write_parquet(truth / name)
        counts[f"truth/{name}"] = table.height
    del reg_rows
    progress(f"wrote registry ({sum(counts[f] for f in SCALE_REGISTRY_FILES)} rows) and truth")

    codes = mark_hard_cases(seed, scale_roster_codes(seed, population), population, people)
    lookup = population.select("person_uid", true_id="id", true_name="name")
    del population
    progress(f"drew {codes.height} roster records and their hard cases")

    writer = ChunkWriter(out)
    kept = []
    n_chunks = max(1, -(-codes.height // SCALE_CHUNK_ROWS))
    bounds = np.linspace(0, codes.height, n_chunks + 1).round().astype(np.int64)
    counts |= dict.fromkeys(SCALE_ROSTER_FILES, 0)
    for index, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        chunk = scale_roster_chunk(seed, index, codes.slice(lo, hi - lo), lookup)
        for file in SCALE_ROSTER_FILES:
            part = chunk.filter(pl.col("file_code") == ROSTER_FILE_CODE[file])
            if part.height or (index == n_chunks - 1 and counts[file] == 0):
                encoding, layout = SCALE_ROSTER_LAYOUT[file]
                writer.write(file, part.select(**layout), encoding)
                counts[file] += part.height
        writer.write(
            "truth/roster_rows.parquet", chunk.select(SCALE_ROSTER_TRUTH_COLUMNS), "parquet"
        )
        kept.append(coverage_truth_records(chunk))
        progress(f"wrote roster chunk {index + 1}/{n_chunks} ({chunk.height} rows)")
    writer.close()
    counts["truth/roster_rows.parquet"] = codes.height
    coverage = coverage_truth(persons, pl.concat(kept))
    coverage.write_parquet(truth / "coverage.parquet")
    counts["truth/coverage.parquet"] = coverage.height
    progress(f"wrote {codes.height} roster rows and the truth")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.sample_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output folder (registry/, pension/, medical/, truth/)",
    )
    parser.add_argument(
        "--people", type=int, default=3000, help="registry people in the sample (default 3000)"
    )
    parser.add_argument("--seed", type=int, default=20171, help="random seed (default 20171)")
    parser.add_argument(
        "--bench", action="store_true", help="write benchmark-size files instead of the sample"
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="benchmark-size extracts in CSV/Parquet only, rosters sized by --roster-ratio",
    )
    parser.add_argument(
        "--roster-ratio",
        type=float,
        default=14.0,
        help="--scale: roster rows per registry person, pension and medical together (default 14)",
    )
    parser.add_argument(
        "--names",
        choices=NAME_MODELS,
        default="realistic",
        help="--scale: name model (default realistic; crowded = the sample's few common names)",
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="--bench: roster rows (default 1,000,000)"
    )
    parser.add_argument(
        "--xlsx-rows",
        type=int,
        default=100_000,
        help="--bench: registry xlsx rows (default 100,000)",
    )
    args = parser.parse_args(argv)
    if args.bench and args.scale:
        parser.error("--bench and --scale are different modes; pick one")
    if args.bench:
        generate_bench(args.out, args.rows, args.xlsx_rows, args.seed)
    elif args.scale:
        if args.people < 200:
            parser.error("--scale needs --people of at least 200 so every hard case can occur")
        if args.roster_ratio < 2:
            parser.error("--roster-ratio must be at least 2 (registry people are insured too)")
        generate_scale(args.out, args.people, args.roster_ratio, args.seed, args.names)
    else:
        if args.people < 50:
            parser.error("--people must be at least 50 so every file and damage kind can occur")
        generate_sample(args.out, args.people, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
