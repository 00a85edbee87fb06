"""One writer per ledger: a lock file beside it, taken before a run reads anything.

A second run started while one is in progress is refused at once with who holds the lock and
since when; the ledger is not touched. A lock left by a process that no longer exists (killed,
machine restarted) is taken over, with a warning, so that the next night's run succeeds.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.log import get_logger

log = get_logger(__name__)


class LedgerLockedError(Exception):
    """Another run holds the ledger."""


def lock_path(ledger_path: Path) -> Path:
    return ledger_path.with_name(ledger_path.name + ".lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict[str, object]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _is_stale(holder: dict[str, object]) -> bool:
    """Only a lock from this machine can be proved stale: its process is gone."""
    pid = holder.get("pid")
    return holder.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid)


def _create(path: Path, as_of: dt.date) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": getpass.getuser(),
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "as_of": as_of.isoformat(),
    }
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(holder, handle, ensure_ascii=False)


def _refusal(ledger_path: Path, path: Path, holder: dict[str, object]) -> LedgerLockedError:
    who = f"{holder.get('user', '?')}@{holder.get('host', '?')} 的进程 {holder.get('pid', '?')}"
    return LedgerLockedError(
        f"台账 {ledger_path} 正被另一次运行使用：{who}，自 {holder.get('started_at', '?')} 起"
        f"（基准日 {holder.get('as_of', '?')}）。请等它结束后再运行；"
        f"若确认那次运行已不存在，可删除锁文件 {path}。"
    )


@contextmanager
def ledger_lock(ledger_path: Path, as_of: dt.date) -> Iterator[None]:
    """Hold the ledger's lock for the duration of the block, or raise LedgerLockedError."""
    path = lock_path(ledger_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _create(path, as_of)
    except FileExistsError:
        holder = _holder(path)
        if not _is_stale(holder):
            raise _refusal(ledger_path, path, holder) from None
        log.warning("上次运行（进程 %s）未正常结束，接管其遗留的台账锁", holder.get("pid"))
        path.unlink(missing_ok=True)
        try:
            _create(path, as_of)
        except FileExistsError:
            raise _refusal(ledger_path, path, _holder(path)) from None
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
