# 社保扶贫参保比对 — type `make` to see what you can do.

#################################################################################
# GLOBALS                                                                       #
#################################################################################

SHELL := /bin/bash
.DEFAULT_GOAL := help

INPUT   ?= data/sample
AS_OF   ?= $(shell date +%F)
LEDGER  ?= data/ledger.duckdb
REPORTS ?= reports
CONFIG  ?=
EXECUTOR ?= local

# uv from PATH, else the copy pip installs as a module (no PATH change needed on a fresh machine).
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
RUN := $(UV) run --locked --quiet

# Prefect keeps its state inside the project and never phones home (this machine is offline).
# Without PREFECT_API_URL, `make run` records its run in a temporary embedded server on
# .prefect/prefect.db; `make server` keeps its own database (.prefect/server.db), so the two
# never contend for one SQLite file.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
SERVER_DB := sqlite+aiosqlite:///$(PREFECT_HOME)/server.db

CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG),)

#################################################################################
# COMMANDS                                                                      #
#################################################################################

## 安装运行环境（首次运行会自动执行） Install uv (via pip if missing) and the locked dependencies
.PHONY: install
install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@# Bytecode compiled once here: without it every run compiles Prefect's ~900 modules again
	@# wherever PYTHONDONTWRITEBYTECODE is set (it doubles Prefect's start-up).
	$(UV) sync --locked --quiet --compile-bytecode
	@touch $@

## 运行夜间比对 Run the nightly reconciliation flow (INPUT, AS_OF, LEDGER, REPORTS, CONFIG)
.PHONY: run
run: install
	$(RUN) python -m pipelines run --input "$(INPUT)" --as-of "$(AS_OF)" \
		--ledger "$(LEDGER)" --reports "$(REPORTS)" --executor "$(EXECUTOR)" $(CONFIG_ARG)

## 定时运行 Serve the flow on the [schedule] of the config (needs PREFECT_API_URL, see make server)
.PHONY: serve
serve: install
	$(RUN) python -m pipelines serve $(CONFIG_ARG)

## 启动 Prefect 服务器和网页界面 Start a local Prefect server and UI on http://127.0.0.1:4200
.PHONY: server
server: install
	@echo "Prefect 网页界面：http://127.0.0.1:4200 ；另开终端运行："
	@echo "    PREFECT_API_URL=http://127.0.0.1:4200/api make serve"
	PREFECT_SERVER_DATABASE_CONNECTION_URL="$(SERVER_DB)" $(RUN) prefect server start

## 查看一个人的台账记录 One person's trail in the ledger, ID masked (ID=身份证号, LEDGER)
.PHONY: history
history: install
	@test -n "$(ID)" || { echo "请给出身份证号：make history ID=430124..." >&2; exit 2; }
	@# No echo: the command line holds the full ID number.
	@$(RUN) python -m pipelines history --id "$(ID)" --ledger "$(LEDGER)"

## 导入核实结果 Import a township's returned review decisions (FILE=工作簿, LEDGER)
.PHONY: review
review: install
	@test -n "$(FILE)" || { echo "请给出交回的工作簿：make review FILE=甲镇.xlsx" >&2; exit 2; }
	$(RUN) python -m pipelines review --file "$(FILE)" --ledger "$(LEDGER)"

## 导出台账 Export the ledger to Parquet and xlsx under reports/台账导出/ (LEDGER)
.PHONY: export
export: install
	$(RUN) python -m pipelines export --ledger "$(LEDGER)"

## 从备份恢复台账 Restore a ledger backup into a new file (BACKUP=文件夹, TO=新台账文件)
.PHONY: restore
restore: install
	@test -n "$(BACKUP)" -a -n "$(TO)" || { echo "用法：make restore BACKUP=<备份文件夹> TO=<新台账文件>" >&2; exit 2; }
	$(RUN) python -m pipelines restore --backup "$(BACKUP)" --ledger "$(TO)"

## 运行全部测试 Run the test suite
.PHONY: test
test: install
	$(RUN) pytest

## 代码检查 Lint the code (ruff)
.PHONY: lint
lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

## 自动格式化 Format the code (ruff)
.PHONY: format
format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

## 重新生成示例数据 Regenerate data/sample with the deterministic generator
.PHONY: sample
sample: install
	$(RUN) python -m pipelines.sample_data --out data/sample

## 性能基准 Benchmarks: ingest speed and memory; matching quality and speed (BENCH_ARGS)
.PHONY: bench
bench: install
	$(RUN) python -m pipelines.bench $(BENCH_ARGS)

## 全省规模基准 Province-scale benchmark: the real nightly flow on a generated province (SCALE=0.01|0.1|1)
.PHONY: bench-scale
bench-scale: install
	$(RUN) python -m pipelines.bench --part scale --scale $(or $(SCALE),0.01) $(BENCH_ARGS)

## 清理生成的文件 Remove generated reports, the sample ledger and work files
.PHONY: clean
clean:
	rm -rf data/interim reports/20* reports/台账导出 data/ledger.duckdb data/ledger.duckdb.wal \
		data/ledger.duckdb.lock data/ledger.duckdb.backups .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

#################################################################################
# Self-documenting help                                                         #
#################################################################################

## 显示本帮助 Show this help
.PHONY: help
help:
	@echo "用法 Usage: make <目标 target> [变量=值]"
	@echo
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{ if (doc) { split($$1,t,":"); printf "  \033[36m%-10s\033[0m %s\n", t[1], doc }; doc="" } /^$$/{doc=""}' $(MAKEFILE_LIST)
	@echo
	@echo "例 Example: make run INPUT=/data/extracts AS_OF=2026-11-30 LEDGER=/data/ledger.duckdb REPORTS=/data/reports"
