"""Every Chinese sentence of the members feature: replies to followers, import reports, CLI output."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.members.importer import ImportReport
    from store.members.index import Entry
    from store.members.status import MemberFacts

# --- help lines (帮助) -------------------------------------------------------------------------------

HELP_LOOKUP = "会员 单位名称 — 查询某单位是否为会员及其评估等级（也可直接发送单位全称或统一社会信用代码）"
HELP_BIND = "绑定 绑定码 — 把您的微信绑定到本单位（绑定码向总会秘书处索取）"
HELP_STATUS = "我的状态 — 查看已绑定单位的会费、评估有效期与联系人"
HELP_UNBIND = "解绑 — 解除与单位的绑定"

MEMBER_HELP = (
    "会员查询说明：\n"
    "· 发送“会员 单位名称”或“查询 单位名称”，如：会员 浙江省婚姻家庭协会\n"
    "· 可用简称（婚姻家庭协会）、拼音首字母（zjshyjtxh）或 18 位统一社会信用代码\n"
    "· 找到多家时回复序号选择\n"
    "· 会员单位工作人员：发送“绑定 绑定码”后，发送“我的状态”查看会费、评估有效期等信息"
)

# --- lookups -----------------------------------------------------------------------------------------

LOOKUP_USAGE = "请在“会员”后加上单位名称，如：会员 浙江省婚姻家庭协会"
BAD_CODE = "这个统一社会信用代码的校验位不正确，请核对后再发。"
CHOICE_MAX = 5
CHOICE_GONE = "该单位信息已更新，请重新查询。"


def grade_line(facts: MemberFacts) -> str:
    if facts.grade is None:
        return "评估等级：未评估"
    state = "有效" if facts.grade_valid else "已过期"
    return f"评估等级：{facts.grade}（{facts.grade_year} 年评定，有效期至 {facts.grade_valid_through} 年，{state}）"


def member_facts(facts: MemberFacts) -> str:
    """One unit as a follower may see it; private lines appear only when `facts.private` is set."""
    head = f"【{facts.name}】"
    if not facts.is_member:
        lines = [head, "该单位已不是本会会员单位。"]
    else:
        lines = [head, f"本会会员：是（{facts.role}）", grade_line(facts)]
    lines.append(f"单位类型：{facts.kind}" + (f"　所在地区：{facts.region}" if facts.region else ""))
    lines.append(f"统一社会信用代码：{facts.credit_code}")
    p = facts.private
    if p is not None:
        lines.append("—— 本单位信息（仅绑定人员可见）——")
        if p.joined_on:
            lines.append(f"入会时间：{p.joined_on:%Y年%m月%d日}")
        if p.dues_paid_through is None:
            lines.append("会费：暂无缴费记录")
        else:
            state = "，已欠缴，请尽快缴纳" if p.dues_overdue else ""
            lines.append(f"会费缴至：{p.dues_paid_through} 年底{state}")
        if facts.grade is None or not facts.grade_valid:
            lines.append(f"等级评估：可于 {p.next_evaluation_year} 年申请评估")
        else:
            lines.append(f"下次评估：请于 {p.next_evaluation_year} 年申请复评")
        contact = "　".join(x for x in (p.contact_person, p.contact_phone) if x) or "未登记"
        lines.append(f"登记联系人：{contact}")
        for h in p.history:
            lines.append(
                f"变更：{h.when:%Y-%m-%d} {FIELD_NAMES.get(h.field, h.field)} {shown_value(h.field, h.old)} → {shown_value(h.field, h.new)}"
            )
    return "\n".join(lines)


def choice_list(entries: Sequence[Entry], total: int) -> str:
    more = (
        f"（共 {total} 家，仅列出前 {len(entries)} 家，可输入更完整的名称）" if total > len(entries) else ""
    )
    lines = [f"找到多家单位{more}，请回复序号查看："]
    for n, e in enumerate(entries, start=1):
        lines.append(f"{n}. {e.name}" + ("（已退会）" if e.retired else ""))
    return "\n".join(lines)


def not_found(query: str, suggestions: Iterable[Entry]) -> str:
    names = [e.name for e in suggestions]
    text = f"没有找到“{query}”，该单位可能不是本会会员单位。"
    if names:
        text += "\n您是不是要找：\n" + "\n".join(f"· {n}" for n in names)
    return text + "\n可发送“会员 单位全称”或统一社会信用代码重新查询。"


# --- binding and status ------------------------------------------------------------------------------

BIND_USAGE = "请发送“绑定 绑定码”，绑定码向总会秘书处索取。"
BIND_LIMITED = "尝试次数过多，请一小时后再试。"
NOT_BOUND = "您还没有绑定会员单位。请向总会秘书处索取绑定码，然后发送“绑定 绑定码”。"
UNBIND_NONE = "您没有绑定任何会员单位。"


def bind_outcome(status: str, member_name: str, attempts_left: int) -> str:
    if status == "bound":
        return f"绑定成功：{member_name}。发送“我的状态”查看本单位会费、评估有效期与联系人。"
    if status == "already":
        return f"您已绑定 {member_name}，无需重复绑定。"
    if status == "limited":
        return BIND_LIMITED
    reason = {
        "wrong": "绑定码不正确",
        "expired": "绑定码已过期，请向总会秘书处重新索取",
        "used": "绑定码已被使用，请向总会秘书处重新索取",
        "retired": "该单位已不是会员单位，无法绑定",
    }[status]
    return f"{reason}。" + (f"（本小时还可尝试 {attempts_left} 次）" if attempts_left < 3 else "")


def unbound(names: Sequence[str]) -> str:
    return "已解除绑定：" + "、".join(names)


# --- import report (CLI) -----------------------------------------------------------------------------

IMPORT_BAD_ENCODING = "文件编码无法识别（应为 UTF-8 或 GBK）"
IMPORT_EMPTY = "文件中没有任何数据"
UPLOAD_TOO_LARGE = "文件超过 {mb} MB，请拆分后分批导入"
UPLOAD_GONE = "找不到这次上传的文件（可能已被清理），请重新上传"
MISSING_NAME = "缺少单位名称"
NAME_TOO_LONG = "单位名称超过 200 字"
MISSING_CODE = "缺少统一社会信用代码"
GRADE_WITHOUT_YEAR = "有评估等级但缺少评估年度"
YEAR_WITHOUT_GRADE = "有评估年度但缺少评估等级"
JOINED_BEFORE_REGISTERED = "入会时间早于登记日期"
GRADED_BEFORE_REGISTERED = "评估年度早于登记日期"
GRADE_WITHOUT_EVALUATION = "有评估等级但参评次数为 0"

FIELD_NAMES = {
    "name": "单位名称",
    "credit_code": "统一社会信用代码",
    "kind": "单位类型",
    "role": "会员类别",
    "joined_on": "入会时间",
    "grade": "评估等级",
    "grade_year": "评估年度",
    "dues_paid_through": "会费缴至",
    "region": "所在地区",
    "contact_person": "联系人",
    "contact_phone": "联系电话",
    "registered_on": "登记日期",
    "eligible": "参评资格",
    "evaluations": "参评次数",
    "retired": "已退会",
}


def import_bad_xlsx(error: Exception) -> str:
    return f"无法读取 Excel 文件：{error}"


def import_bad_suffix(suffix: str) -> str:
    return f"不支持的文件类型“{suffix}”，请使用 .xlsx 或 .csv"


def import_missing_columns(names: Sequence[str]) -> str:
    return "第一行表头缺少必需的列：" + "、".join(names)


def bad_code(raw: str, why: str) -> str:
    return f"统一社会信用代码“{raw}”无效：{why}"


def bad_role(raw: str, roles: Sequence[str]) -> str:
    if not raw:
        return "缺少会员类别"
    return (
        f"未知的会员类别“{raw}”（应为 {'、'.join(roles)}；如本会确有此类别，请把它加到 config.toml 的 "
        "[members] roles 中）"
    )


def bad_kind(raw: str, kinds: Sequence[str]) -> str:
    if not raw:
        return "缺少单位类型"
    return f"未知的单位类型“{raw}”（应为 {'、'.join(kinds)}）"


def bad_grade(raw: str) -> str:
    return f"未知的评估等级“{raw}”（应为 5A、4A、3A、2A、1A 或留空）"


def bad_year(label: str, raw: str) -> str:
    return f"{label}“{raw}”不是年份"


def year_out_of_range(label: str, year: int) -> str:
    return f"{label} {year} 年不合理"


def bad_date(raw: str, label: str = "入会时间") -> str:
    return f"{label}“{raw}”不是日期"


def date_out_of_range(d: date, label: str = "入会时间") -> str:
    return f"{label} {d.isoformat()} 不合理"


def bad_flag(raw: str) -> str:
    return f"参评资格“{raw}”应为“是”或“否”（或留空）"


def bad_count(raw: str) -> str:
    return f"参评次数“{raw}”不是次数（应为 0 至 30 的整数）"


def bad_region(raw: str) -> str:
    return f"所在地区“{raw}”应为市名，可跟区（县）名，如“杭州市西湖区”；省级单位填省名，如“浙江省”"


def bad_phone(raw: str) -> str:
    return f"联系电话“{raw}”格式不正确"


def duplicate_code(code: str, lines: Sequence[int]) -> str:
    return f"统一社会信用代码 {code} 在文件中重复出现（第 {'、'.join(map(str, lines))} 行），两行均未导入"


def duplicate_name(name: str, lines: Sequence[int]) -> str:
    return (
        f"单位名称“{name}”在文件中以不同的统一社会信用代码出现（第 {'、'.join(map(str, lines))} 行），"
        "其中的代码可能有误，这几行均未导入"
    )


def name_taken(name: str, other_code: str) -> str:
    return (
        f"已有同名单位“{name}”（统一社会信用代码 {other_code}），本行的代码可能填错了，未导入；"
        f"若该单位确已换用新代码，请先将 {other_code} 标记退会（会员页的“退会”或 members retire {other_code}），再导入"
    )


def _value(v: object) -> str:
    if v is None or v == "":
        return "（空）"
    if isinstance(v, bool):
        return "是" if v else "否"
    return v.isoformat() if isinstance(v, date | datetime) else str(v)


def import_summary(report: ImportReport) -> str:
    verb = "将" if report.dry_run else "已"
    lines = [
        f"{report.path}：共 {report.rows} 行；{verb}新增 {len(report.added)} 家，{verb}更新 {len(report.updated)} 家，"
        f"无变化 {report.unchanged} 家，拒绝 {len(report.rejected)} 行"
        + ("（试运行，未写入）" if report.dry_run else "")
    ]
    for c in report.added:
        lines.append(f"  + {c.credit_code} {c.name}")
    for c in report.updated:
        diff = "；".join(
            f"{FIELD_NAMES.get(f, f)} {_value(o)} → {_value(n)}" for f, (o, n) in c.fields.items()
        )
        lines.append(f"  ~ {c.credit_code} {c.name}：{diff}")
    for r in report.rejected:
        lines.append(f"  ✗ 第 {r.line} 行：{r.reason}")
    return "\n".join(lines)


# --- the `main.py members` commands (editors) --------------------------------------------------------

CLI_HELP = "会员单位名录与粉丝绑定"
CLI_UNIT = "单位：全称、简称、拼音首字母或 18 位统一社会信用代码（有多家符合时列出供选择）"
CLI_IMPORT_HELP = "从 .xlsx 或 .csv（UTF-8 或 GBK）导入会员单位；有被拒绝的行时退出码为 1"
CLI_IMPORT_DESCRIPTION = "按统一社会信用代码新增或更新会员单位。可识别的表头："
CLI_IMPORT_FILE = "要导入的 .xlsx 或 .csv 文件"
CLI_DRY_RUN = "只显示会有哪些变化，不写入"
CLI_LIST_HELP = "列出会员单位"
CLI_LIST_ALL = "也列出已退会的单位"
CLI_SHOW_HELP = "查看一家单位的全部信息和变更记录"
CLI_EXPORT_HELP = "把全部在册单位写入 .csv 或 .xlsx（与导入的格式相同）"
CLI_EXPORT_FILE = "要写入的 .csv 或 .xlsx 文件"
CLI_RETIRE_HELP = "把一家单位标记为已退会"
CLI_BIND_CODE_HELP = "生成一次性绑定码：该单位的工作人员发送“绑定 绑定码”即把微信绑定到本单位"
CLI_BINDINGS_HELP = "一家单位已绑定的粉丝和绑定记录"
CLI_UNBIND_HELP = "解除某位粉丝与一家单位的绑定"
CLI_OPENID = "粉丝的 openid（见 members bindings）"

CLI_FILE_ERROR = "{file}：{error}"
CLI_LIST_HEADER = "统一社会信用代码      会员类别        评估等级     单位名称"
CLI_LIST_LINE = "{code}  {role}  {grade}  {name}{left}"
CLI_NO_GRADE = "未评估"
CLI_LEFT = "  [已退会]"
CLI_LIST_TOTAL = "共 {n} 家"
CLI_RETIRED_YES = "是（{date}）"
CLI_RETIRED_NO = "否"
CLI_HISTORY = "变更记录（时间为{zone}）："
CLI_HISTORY_LINE = "  {at}  {source}：{field} {old} → {new}"
CLI_EXPORTED = "已将 {n} 家单位写入 {file}"
CLI_RETIRED = "{name}：已标记为退会（{date}）"
CLI_ALREADY_RETIRED = "{name} 已于 {date} 退会，未作修改"
CLI_BIND_CODE = (
    "{name}\n绑定码：{code}（只能使用一次，有效期至 {until}）\n"
    "请该单位的工作人员向公众号发送：绑定 {code}"
)
CLI_BOUND_FOLLOWERS = "已绑定的粉丝：{n} 位（时间为{zone}）"
CLI_BOUND_LINE = "  {openid}  {since} 起"
CLI_BINDING_LOG = "绑定记录："
CLI_BINDING_LOG_LINE = "  {at}  {kind}  {openid}"
CLI_NO_BINDING_LOG = "  （无）"
BINDING_KINDS = {"bind": "绑定", "unbind": "粉丝自行解绑", "revoke": "编辑解除", "unsubscribe": "取消关注"}
CLI_UNBOUND = "已解除 {openid} 与 {name} 的绑定"
CLI_NOT_BOUND = "{openid} 没有绑定 {name}"
CLI_NO_SUCH_CODE = "没有统一社会信用代码为 {code} 的单位"

CLI_BAD_CODE = "“{query}”像是统一社会信用代码，但校验位不对，请核对。"
CLI_CHOICES = "“{query}”可能指以下单位："
CLI_CHOICE_LINE = "  {n}. {name}  {code}{left}"
CLI_ASK = "请输入序号（直接回车取消）："
CLI_CHOOSE_AGAIN = "请用其中一家的统一社会信用代码或全称再运行一次。"
CLI_CANCELLED = "已取消，未作任何修改。"
CLI_NOT_A_CHOICE = "“{answer}”不是列表中的序号，未作任何修改。"


def file_problem(error: Exception) -> str:
    """A file that cannot be read or written, in words (an ImportFileError already is)."""
    if isinstance(error, FileNotFoundError):
        return "找不到这个文件或它所在的文件夹"
    if isinstance(error, PermissionError):
        return "没有权限读写这个文件"
    if isinstance(error, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    if isinstance(error, OSError):
        return f"无法读写这个文件（{error.strerror or error}）"
    return str(error)


def cli_not_found(query: str, suggestions: Iterable[Entry]) -> str:
    names = [f"{e.name}（{e.credit_code}）" for e in suggestions]
    text = f"没有找到“{query}”。"
    if names:
        text += "您是不是要找：\n" + "\n".join(f"  · {n}" for n in names)
    return text


def history_source(source: str) -> str:
    """What changed a field, as stored ("import x.csv", "retire", "demo"), in words."""
    if source.startswith("import "):
        return f"导入 {source.removeprefix('import ')}"
    return {"retire": "标记退会", "demo": "演示数据"}.get(source, source)


def shown_value(field: str, value: str | None) -> str:
    """A value of the change history (stored as text) in words."""
    if value is None or value == "":
        return "（空）"
    if field in ("retired", "eligible"):
        return "是" if value == "True" else "否"
    return value
