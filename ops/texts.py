"""What the operator reads of a backup or a restore (the CLI prints these)."""

from __future__ import annotations

NOT_A_BACKUP = "{path} 不是本程序生成的备份文件（缺少 manifest.json 或格式不符）"
KIND_MISMATCH = "这份备份来自 {found} 数据库，而当前配置的 [database] url 是 {configured}；请使用同类数据库恢复"
LIVE_DATABASE = ("目标数据库已有数据（{what}）。恢复会覆盖其中的全部内容；确认无误后请加上 --force 再运行。"
                 "PostgreSQL 请先停止 serve 进程。")
TOOL_MISSING = "找不到 {tool}：PostgreSQL 的备份与恢复需要安装 PostgreSQL 客户端工具（{tool}）"
TOOL_FAILED = "{tool} 执行失败（退出码 {code}）：{detail}"
BACKUP_DONE = "已备份到 {path}：数据库（{kind}，{size}）与 {media} 个媒体文件；备份开始于 {taken_at}（UTC）"
RESTORE_DONE = "已从 {path} 恢复：数据库（{kind}）与 {media} 个媒体文件；该备份开始于 {taken_at}（UTC）"


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
