"""Command line: `python -m pipelines run --input DIR --as-of DATE --ledger FILE --reports DIR`
(the Prefect flow `nightly_reconciliation`, run in this process), `serve` (the same flow on the
nightly schedule), and for reading the ledger back `history --id ID`, `export`,
`restore --backup DIR --ledger FILE`.

Exit status: 0 when the run committed; 1 when it was refused for a reason the officer can fix
(the message says which file, which row, what to do); 2 for a bad command line or configuration.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from pipelines.backups import RestoreError, restore
from pipelines.config import ConfigError, load_config
from pipelines.history import LedgerMissingError, export_ledger, format_history, person_history
from pipelines.labels import INSURANCE_LABELS, STATUS_LABELS
from pipelines.lock import LedgerLockedError
from pipelines.log import get_logger, setup_logging
from pipelines.nightly import RunRefusedError, RunRequest, RunResult
from pipelines.paths import DEFAULT_LEDGER, DEFAULT_REPORTS, SAMPLE_DIR
from pipelines.review import ReviewRefusedError, import_review
from pipelines.stage import FileReport

log = get_logger(__name__)

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到 {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines", description="社保扶贫参保比对（参保销号台账）"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="运行一次比对（夜间任务）")
    run.add_argument(
        "--input",
        type=Path,
        default=SAMPLE_DIR,
        help="输入文件夹（含 registry/ pension/ medical/），默认 data/sample",
    )
    run.add_argument(
        "--as-of", type=_date, default=dt.date.today(), help="比对基准日 YYYY-MM-DD，默认今天"
    )
    run.add_argument(
        "--ledger",
        type=Path,
        default=DEFAULT_LEDGER,
        help="台账文件，默认 data/ledger.duckdb",
    )
    run.add_argument(
        "--reports",
        type=Path,
        default=DEFAULT_REPORTS,
        help="报表输出文件夹，默认 reports/",
    )
    run.add_argument(
        "--config", type=Path, default=None, help="覆盖默认配置的 TOML 文件（只需写要改的键）"
    )
    run.add_argument(
        "--allow-partial",
        action="store_true",
        help="有文件无法读取、或台账中某县的人本次全都不在名单中时，仍写入台账（默认拒绝，以免误判）",
    )
    run.add_argument(
        "--mask-ids",
        action="store_true",
        help="乡镇工作簿中的身份证号部分隐去（默认显示完整号码，供乡镇办理参保）",
    )
    run.add_argument(
        "--rebuild",
        action="store_true",
        help="允许基准日早于台账最近一次运行（只追加记录，不改写历史）",
    )
    run.add_argument(
        "--executor",
        choices=["local", "dask"],
        default="local",
        help="执行方式：local 单机运行（默认）；dask 把打分分区交给 Dask 集群（[run] dask_*）",
    )
    run.add_argument("--verbose", action="store_true", help="输出更详细的过程信息")

    serve = commands.add_parser(
        "serve", help="按配置 [schedule] 的时间每晚自动运行（需要 Prefect 服务器）"
    )
    serve.add_argument(
        "--config", type=Path, default=None, help="覆盖默认配置的 TOML 文件（只需写要改的键）"
    )

    history = commands.add_parser(
        "history", help="查看一个人在台账中的全部记录（身份证号打码显示）"
    )
    who = history.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", dest="id_number", help="身份证号")
    who.add_argument("--person-key", help="人员编号")
    history.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="台账文件")

    export = commands.add_parser("export", help="把台账导出为 Parquet 和 Excel")
    export.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="台账文件")
    export.add_argument(
        "--out", type=Path, default=DEFAULT_REPORTS / "台账导出", help="导出到的文件夹"
    )

    review = commands.add_parser("review", help="导入乡镇交回的核实结果（待核实表）")
    review.add_argument("--file", type=Path, required=True, help="交回的乡镇工作簿 .xlsx")
    review.add_argument("--ledger", type=Path, default=DEFAULT_LEDGER, help="台账文件")

    restore = commands.add_parser("restore", help="从备份恢复台账到一个新文件")
    restore.add_argument(
        "--backup", type=Path, required=True, help="备份文件夹（<台账>.backups/ 下）"
    )
    restore.add_argument(
        "--ledger", type=Path, required=True, help="恢复成的台账文件（不得已存在）"
    )
    return parser


def _print_files(files: list[FileReport]) -> None:
    print("输入文件：")
    for f in files:
        where = f"{f.source}/{f.path.name}"
        if f.error:
            print(f"  ✗ {where}：无法读取 —— {f.error}")
            continue
        accounting = f"读入 {f.rows_read} 行 = 接受 {f.rows_accepted} + 隔离 {f.rows_quarantined}"
        print(f"  ✓ {where}：{accounting}")
        for sheet, problem in f.sheet_errors.items():
            print(f"      工作表「{sheet}」未读取：{problem}")


def _print_summary(request: RunRequest, result: RunResult) -> None:
    print(f"\n比对基准日 {request.as_of.isoformat()}，台账第 {result.run_id} 次运行已提交。")
    _print_files(result.files)
    print(f"在册人员：{result.people} 人")
    for insurance, label in INSURANCE_LABELS.items():
        counts = result.counts.get(insurance, {})
        parts = "，".join(f"{STATUS_LABELS[s]} {counts.get(s, 0)}" for s in STATUS_LABELS)
        print(f"  {label}：{parts}")
    if result.id_conflicts:
        print(f"同一身份证号、姓名明显不同：{result.id_conflicts} 组（需核实）")
    quarantined = sum(n for _, n in result.quarantine_by_reason)
    print(
        f"隔离记录：{quarantined} 行（见 {request.reports_dir / request.as_of.isoformat()}"
        "/隔离记录.csv）"
    )
    for reason, count in result.quarantine_by_reason[:10]:
        print(f"  {count:>6} 行  {reason}")
    for problem in result.review_problems:
        print(f"核实结果未采用：{problem}")
    print(
        f"乡镇工作簿：{len(result.workbooks)} 个，位于 "
        f"{request.reports_dir / request.as_of.isoformat()}"
    )
    if result.summaries:
        print(f"县级和全省汇总：{len(result.summaries)} 个，位于 {result.summaries[0].parent}")


def run_command(args: argparse.Namespace) -> int:
    try:
        # Checked here, before Prefect starts, so that a bad file is a usage error (exit 2);
        # the flow loads it again itself, as a scheduled run must.
        load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    # Imported here: Prefect takes a second or two to import, which the other commands skip.
    from pipelines.flows import (
        ExecutorUnavailableError,
        check_executor,
        quiet_prefect_terminal,
        run_flow,
    )

    quiet_prefect_terminal()
    try:
        check_executor(args.executor)
    except ExecutorUnavailableError as unavailable:
        print(unavailable, file=sys.stderr)
        return EXIT_USAGE
    request = RunRequest(
        args.input,
        args.as_of,
        args.ledger,
        args.reports,
        args.allow_partial,
        args.rebuild,
        args.mask_ids,
    )
    try:
        result = run_flow(request, args.config, args.executor)
    except RunRefusedError as refused:
        if refused.files:
            _print_files(refused.files)
        print(f"\n本次运行未提交：{refused}", file=sys.stderr)
        return EXIT_REFUSED
    _print_summary(request, result)
    return EXIT_OK


NO_SERVER = """\
定时运行需要一个一直运行的 Prefect 服务器，但没有设置 PREFECT_API_URL。
请先在另一个终端运行 make server，然后：
    PREFECT_API_URL=http://127.0.0.1:4200/api make serve
已有 Prefect 服务器时，把 PREFECT_API_URL 设为它的地址即可（见 README 第 8 节）。

Serving the nightly schedule needs a running Prefect server and PREFECT_API_URL pointing at it:
the embedded server of `make run` has no scheduler. Start one with `make server`."""


def serve_command(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    from pipelines.flows import (
        DEPLOYMENT_NAME,
        FLOW_NAME,
        api_url,
        build_deployment,
        schedule_parameters,
        serve_nightly,
    )

    if not api_url():
        print(NO_SERVER, file=sys.stderr)
        return EXIT_USAGE
    try:
        deployment = build_deployment(config, args.config)
    except ValueError as error:  # a cron expression Prefect does not accept
        print(f"配置 [schedule] 有误：{error}", file=sys.stderr)
        return EXIT_USAGE
    folders = schedule_parameters(config, args.config)
    print(
        f"定时比对：按 cron「{config.schedule.cron}」（{config.schedule.timezone}）运行，"
        f"输入 {folders['input_dir']}，台账 {folders['ledger']}，报表 {folders['reports']}。\n"
        f"Prefect 服务器 {api_url()}；立即运行一次：\n"
        f"    uv run prefect deployment run '{FLOW_NAME}/{DEPLOYMENT_NAME}'\n"
        "按 Ctrl-C 停止（定时任务随之暂停）。"
    )
    serve_nightly(deployment)
    return EXIT_OK


def history_command(args: argparse.Namespace) -> int:
    try:
        trail = person_history(args.ledger, args.id_number, args.person_key)
    except LedgerMissingError as missing:
        print(missing, file=sys.stderr)
        return EXIT_REFUSED
    print(format_history(trail))
    return EXIT_OK


def export_command(args: argparse.Namespace) -> int:
    try:
        target = export_ledger(args.ledger, args.out)
    except LedgerMissingError as missing:
        print(missing, file=sys.stderr)
        return EXIT_REFUSED
    print(f"台账已导出到 {target}")
    return EXIT_OK


def restore_command(args: argparse.Namespace) -> int:
    try:
        restore(args.backup, args.ledger)
    except RestoreError as error:
        print(f"未恢复：{error}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"已从 {args.backup} 恢复台账到 {args.ledger}")
    return EXIT_OK


def review_command(args: argparse.Namespace) -> int:
    try:
        added, problems = import_review(args.file, args.ledger)
    except (ReviewRefusedError, LedgerLockedError) as refused:
        print(f"未导入：{refused}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"已导入 {added} 条核实结果（下次比对时生效）。")
    for problem in problems:
        print(f"  未采用：{problem}")
    return EXIT_OK


COMMANDS = {
    "review": review_command,
    "run": run_command,
    "serve": serve_command,
    "history": history_command,
    "export": export_command,
    "restore": restore_command,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(getattr(args, "verbose", False))
    return COMMANDS[args.command](args)
