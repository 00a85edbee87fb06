"""County and province summary workbooks.

County (`reports/<as-of>/汇总/<county>汇总.xlsx`): coverage per township for each insurance
with a bar chart, the 代缴名单 (resident-pension contributions the county pays) and the
医保资助名单 (medical contribution subsidies), each with its total. Province
(`reports/<as-of>/汇总/全省汇总.xlsx`): coverage per county with a bar chart, and 按季调度:
coverage and write-offs per county per quarter from the ledger's history, with a line chart.
Amounts come from the configuration's money tables for the as-of year.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference

from pipelines.config import Config
from pipelines.labels import INSURANCE_LABELS, STATUS_LABELS
from pipelines.log import get_logger
from pipelines.pool import Job
from pipelines.reporting.cells import safe_file_name, text_cell, written_atomically
from pipelines.reporting.sheets import Column, write_table
from pipelines.sqlfiles import load_sql
from pipelines.warehouse import run_statement

log = get_logger(__name__)

SUMMARY_FOLDER = "汇总"
INSURANCE_SHEETS = {"pension": "养老汇总", "medical": "医保汇总"}
_COUNTS = [
    Column("在册人数", "people", 10, "number"),
    Column("应参保人数", "population", 11, "number"),
    Column("已参保", "enrolled", 10, "number"),
    Column("未参保", "unenrolled", 10, "number"),
    Column("待核实", "review", 10, "number"),
    Column("不纳入", "exempt", 10, "number"),
    Column("参保率", "coverage", 10, "percent"),
    Column("本期销号", "written_off", 10, "number"),
]
DAIJIAO_COLUMNS = [
    Column("乡镇(街道)", "township", 14),
    Column("村(社区)", "village", 14),
    Column("户编号", "household_key", 14),
    Column("姓名", "name", 10),
    Column("身份证号", "id_number", 21),
    Column("代缴类别", "category", 22),
    Column("脱贫标志", "poverty_exit", 10),
    Column("参保人编号", "roster_person_no", 16),
    Column("代缴金额（元）", "amount", 14, "number"),
    Column("人员编号", "person_key", 20),
]
SUBSIDY_COLUMNS = [
    Column("乡镇(街道)", "township", 14),
    Column("村(社区)", "village", 14),
    Column("户编号", "household_key", 14),
    Column("姓名", "name", 10),
    Column("身份证号", "id_number", 21),
    Column("资助类别", "category", 14),
    Column("参保状态", "status_label", 10),
    Column("资助金额（元）", "amount", 14, "number"),
    Column("人员编号", "person_key", 20),
]
QUARTERLY_COLUMNS = [
    Column("季度", "quarter_label", 14),
    Column("县市区", "county", 14),
    Column("险种", "insurance_label", 10),
    Column("应参保人数", "population", 11, "number"),
    Column("已参保", "enrolled", 10, "number"),
    Column("参保率", "coverage", 10, "percent"),
    Column("本季销号", "written_off", 10, "number"),
]
_NUMBERS = ["people", "population", "enrolled", "unenrolled", "review", "exempt", "written_off"]


def _for_year(table: dict[int, object], year: int) -> object:
    """A year's entry: the latest year listed at or before it (tables list changes only)."""
    years = [y for y in table if y <= year] or [min(table)]
    return table[max(years)]


def _with_total(frame: pl.DataFrame, area: str) -> pl.DataFrame:
    """The rows plus a 合计 row; coverage recomputed from the sums, never averaged."""
    total = frame.select(pl.col(_NUMBERS).sum()).with_columns(pl.lit("合计").alias(area))
    return pl.concat([frame.select(area, *_NUMBERS), total], how="diagonal").with_columns(
        coverage=pl.col("enrolled") / pl.when(pl.col("population") > 0).then(pl.col("population"))
    )


def _coverage_sheet(
    book: Workbook, title: str, area: str, area_header: str, frame: pl.DataFrame, as_of: dt.date
) -> None:
    rows = _with_total(frame, area)
    columns = [Column(area_header, area, 16), *_COUNTS]
    sheet = write_table(book, title, columns, rows, as_of)
    if frame.height:
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"{title}：参保率"
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        coverage_column = 1 + [c.header for c in columns].index("参保率") + 1
        data = Reference(sheet, min_col=coverage_column, min_row=1, max_row=frame.height + 1)
        labels = Reference(sheet, min_col=1, min_row=2, max_row=frame.height + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(labels)
        chart.legend = None
        chart.height = max(7.5, 0.5 * frame.height)
        sheet.add_chart(chart, "K2")


def _money_sheet(
    book: Workbook, title: str, columns: list[Column], frame: pl.DataFrame, as_of: dt.date
) -> None:
    total = pl.DataFrame({"township": ["合计"], "amount": [frame.get_column("amount").sum()]})
    rows = pl.concat([frame, total], how="diagonal_relaxed")
    write_table(book, title, columns, rows, as_of)


def _notes(book: Workbook, lines: list[str]) -> None:
    notes = book.create_sheet("说明")
    notes.column_dimensions["A"].width = 100
    for line in lines:
        notes.append([text_cell(notes, line)])


def _money_frames(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: dt.date, mask_ids: bool
) -> tuple[pl.DataFrame, pl.DataFrame, float, float]:
    money = config.money
    tier = float(_for_year(money.pension.daijiao_tier, as_of.year))
    contribution = float(_for_year(money.medical.individual_contribution, as_of.year))
    subsidy_table = _for_year(money.medical.subsidy, as_of.year)
    subsidy = [
        {"category": category, "kind": rule.kind, "amount": rule.amount, "share": rule.share}
        for category, rule in subsidy_table.items()
    ]
    daijiao = con.sql(
        load_sql("rpt_daijiao"),
        params={
            "categories": money.pension.daijiao_categories,
            "amount": tier,
            "benefit_age": config.ages.pension_benefit_age,
            "mask_ids": mask_ids,
        },
    ).pl()
    subsidies = (
        con.sql(
            load_sql("rpt_medical_subsidy"),
            params={"subsidy": subsidy, "contribution": contribution, "mask_ids": mask_ids},
        )
        .pl()
        .with_columns(status_label=pl.col("status").replace_strict(STATUS_LABELS))
    )
    return daijiao, subsidies, tier, contribution


@dataclass(frozen=True)
class Money:
    """The as-of year's amounts: the pension tier the county pays, the medical contribution."""

    tier: float
    contribution: float


def _write_county(
    target: Path,
    county: str,
    as_of: dt.date,
    counts: pl.DataFrame,
    daijiao: pl.DataFrame,
    subsidies: pl.DataFrame,
    money: Money,
) -> Path:
    """One county's summary workbook from its own rows (run in a worker process, see pool)."""
    book = Workbook(write_only=True)
    _notes(
        book,
        [
            f"{county} 社保扶贫参保汇总（比对基准日 {as_of.isoformat()}）",
            "养老汇总、医保汇总：各乡镇在册人数、应参保人数（不含不纳入）、已参保、未参保、待核实、"
            "不纳入、参保率（已参保 ÷ 应参保）和本期销号人数。",
            f"代缴名单：由县级财政代缴最低档养老保险费的人员，{len(daijiao)} 人，"
            f"每人 {money.tier:g} 元，合计 {daijiao.get_column('amount').sum():,.0f} 元。",
            f"医保资助名单：城乡居民医保个人缴费 {money.contribution:g} 元/人，资助 "
            f"{len(subsidies)} 人，合计 {subsidies.get_column('amount').sum():,.2f} 元。",
            "金额标准见配置文件 [money]，须以当年文件为准。",
        ],
    )
    for insurance, title in INSURANCE_SHEETS.items():
        rows = counts.filter(pl.col("insurance") == insurance)
        _coverage_sheet(book, title, "township", "乡镇(街道)", rows, as_of)
    _money_sheet(book, "代缴名单", DAIJIAO_COLUMNS, daijiao, as_of)
    _money_sheet(book, "医保资助名单", SUBSIDY_COLUMNS, subsidies, as_of)
    with written_atomically(target) as temporary:
        book.save(temporary)
    return target


def summary_jobs(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path,
    as_of: dt.date,
    run_id: int,
    config: Config,
    *,
    mask_ids: bool = False,
) -> list[Job]:
    """One job per county summary workbook and one for the province's (run by
    reporting.workbooks)."""
    started = time.perf_counter()
    run_statement(con, "reporting_macros")
    counts = con.sql(load_sql("rpt_area_counts"), params={"run_id": run_id}).pl()
    daijiao, subsidies, tier, contribution = _money_frames(con, config, as_of, mask_ids)
    money = Money(tier, contribution)
    quarterly = (
        con.sql(load_sql("rpt_quarterly"))
        .pl()
        .with_columns(insurance_label=pl.col("insurance").replace_strict(INSURANCE_LABELS))
    )
    log.info(
        "汇总数据：代缴名单 %d 人，医保资助名单 %d 人（查询 %.1f 秒）",
        daijiao.height,
        subsidies.height,
        time.perf_counter() - started,
    )
    # Beside the county folders, not in them: those hold one workbook per township only.
    folder = reports_dir / as_of.isoformat() / SUMMARY_FOLDER
    jobs = []
    for county in counts.get_column("county").unique().sort().to_list():
        target = folder / f"{safe_file_name(county)}汇总.xlsx"
        mine = [frame.filter(pl.col("county") == county) for frame in (counts, daijiao, subsidies)]
        rows = sum(frame.height for frame in mine)
        jobs.append(Job(_write_county, (target, county, as_of, *mine, money), rows))
    province_args = (counts, quarterly, folder / "全省汇总.xlsx", as_of)
    jobs.append(Job(_write_province, province_args, counts.height + quarterly.height))
    return jobs


def _write_province(
    counts: pl.DataFrame, quarterly: pl.DataFrame, target: Path, as_of: dt.date
) -> Path:
    by_county = counts.group_by("county", "insurance").agg(pl.col(_NUMBERS).sum()).sort("county")
    book = Workbook(write_only=True)
    _notes(
        book,
        [
            f"全省社保扶贫参保汇总（比对基准日 {as_of.isoformat()}）",
            "养老汇总、医保汇总：各县市区的人数与参保率（已参保 ÷ 应参保）。",
            "按季调度：各县市区每季度最后一次比对时的参保率和当季销号人数，取自台账历史。",
        ],
    )
    for insurance, title in INSURANCE_SHEETS.items():
        rows = by_county.filter(pl.col("insurance") == insurance)
        _coverage_sheet(book, title, "county", "县市区", rows, as_of)
    sheet = write_table(book, "按季调度", QUARTERLY_COLUMNS, quarterly, as_of)
    province = (
        quarterly.group_by("quarter_label", "insurance")
        .agg(pl.col("enrolled").sum() / pl.col("population").sum())
        .pivot("insurance", index="quarter_label", values="enrolled")
        .sort("quarter_label")
    )
    # Pension then medical, whichever the grouping happened to meet first.
    province = province.select(
        "quarter_label", *(column for column in INSURANCE_LABELS if column in province.columns)
    )
    if province.height:
        trend = book.create_sheet("全省趋势")
        trend.append(
            [
                text_cell(trend, "季度"),
                *(text_cell(trend, INSURANCE_LABELS.get(c, c)) for c in province.columns[1:]),
            ]
        )
        for row in province.iter_rows():
            trend.append(list(row))
        chart = LineChart()
        chart.title = "全省参保率（按季度）"
        chart.y_axis.number_format = "0%"
        data = Reference(
            trend, min_col=2, max_col=province.width, min_row=1, max_row=province.height + 1
        )
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=province.height + 1))
        sheet.add_chart(chart, "J2")
    with written_atomically(target) as temporary:
        book.save(temporary)
    return target
