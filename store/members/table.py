"""Reading and checking a member table (.xlsx, or CSV in UTF-8 or GBK): which column is which field
(header spellings seen in members' spreadsheets), and every row normalised and validated, with the
reason in Chinese when it is not. Blocking: run it in a thread. Roles are the federation's
(`[members] roles`); a credit code or a name that appears under two identities in one file rejects
those rows, since the file does not say which is right. The columns the registry's figures use
(登记日期, 参评资格, 参评次数, the region: store/members/checks.py) are optional, and a file without
one of the first three leaves what the registry holds for it. Writing is store/members/importer.py."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from store.members import checks, credit_code, texts
from store.members.index import normalize

FIELDS = (
    "name",
    "credit_code",
    "kind",
    "role",
    "joined_on",
    "grade",
    "grade_year",
    "dues_paid_through",
    "region",
    "contact_person",
    "contact_phone",
    "registered_on",
    "eligible",
    "evaluations",
)
# Columns a file may leave out without erasing what the registry holds (added with the figures).
KEPT_WHEN_ABSENT = ("registered_on", "eligible", "evaluations")

# Header spellings seen in members' spreadsheets → field. Headers are compared after removing
# spaces, brackets and case, so "联系电话（手机）" needs only "联系电话手机".
HEADERS = {
    "name": ["单位名称", "名称", "会员单位", "会员单位名称", "单位", "组织名称", "社会组织名称", "name", "unitname", "unit"],
    "credit_code": ["统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "creditcode", "uscc", "code"],
    "kind": ["单位类型", "类型", "组织类型", "社会组织类型", "单位性质", "kind", "type"],
    "role": ["会员类别", "会员类型", "会员级别", "类别", "职务", "会内职务", "role", "membership", "membertype"],
    "joined_on": ["入会时间", "入会日期", "入会年份", "加入时间", "joined", "joindate", "joinedon"],
    "grade": ["评估等级", "等级", "社会组织评估等级", "grade", "rating"],
    "grade_year": ["评估年度", "评估年份", "评估时间", "等级年度", "获评年度", "gradeyear", "ratingyear"],
    "dues_paid_through": ["会费缴至", "会费缴纳至", "会费缴至年度", "会费已缴至", "缴费至", "duespaidthrough", "dues", "duesyear"],
    "region": ["所在地区", "地区", "所在地", "区域", "region", "area", "city"],
    "contact_person": ["联系人", "联系人姓名", "contact", "contactperson"],
    "contact_phone": ["联系电话", "电话", "联系方式", "手机", "联系人电话", "联系电话手机", "phone", "tel", "contactphone"],
    "registered_on": ["登记日期", "成立登记日期", "登记时间", "成立日期", "成立时间", "登记成立日期", "registered", "registeredon", "registrationdate"],
    "eligible": ["参评资格", "是否具备参评资格", "是否符合参评条件", "符合参评条件", "eligible", "eligibility"],
    "evaluations": ["参评次数", "评估次数", "参加评估次数", "evaluations", "evaluationcount"],
}
_HEADER_FIELD = {h: f for f, names in HEADERS.items() for h in names}

# The roles themselves come from `[members] roles`; these are other spellings of the usual ones, used
# only when that role is configured. A role not configured is a row error, never a nearby role.
ROLE_SYNONYMS = {
    "普通会员": "会员单位",
    "普通会员单位": "会员单位",
    "president": "会长单位",
    "executivevicepresident": "常务副会长单位",
    "vicepresident": "副会长单位",
    "director": "理事单位",
    "council": "理事单位",
    "member": "会员单位",
}
KINDS = ("社会团体", "基金会", "社会服务机构")
KIND_ALIASES = {
    **{k: k for k in KINDS},
    "社团": "社会团体",
    "民办非企业单位": "社会服务机构",
    "民非": "社会服务机构",
    "socialgroup": "社会团体",
    "association": "社会团体",
    "foundation": "基金会",
    "socialserviceagency": "社会服务机构",
}
GRADES = ("5A", "4A", "3A", "2A", "1A")
_NO_GRADE = {"", "无", "未评估", "未评", "暂无", "-", "—", "none", "n/a"}
_CN_DIGITS = {"五": "5", "四": "4", "三": "3", "二": "2", "一": "1"}
FIRST_YEAR = 1949  # the registry holds nothing older than the People's Republic


@dataclass(frozen=True)
class MemberRow:
    """One checked row: every field normalised, ready to write."""

    line: int
    name: str
    credit_code: str
    kind: str
    role: str
    joined_on: date | None
    grade: str | None
    grade_year: int | None
    dues_paid_through: int | None
    region: str
    contact_person: str
    contact_phone: str
    registered_on: date | None = None
    eligible: bool | None = None  # 参评资格 as stated; None: the file does not say
    evaluations: int | None = None
    absent: frozenset[str] = frozenset()  # KEPT_WHEN_ABSENT columns the file does not have

    def values(self) -> dict:
        return {f: getattr(self, f) for f in FIELDS if f not in self.absent}


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    # A likely typo: the row's name is an existing unit's under this other code (importer._name_taken).
    other_code: str | None = None


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, no header); nothing was imported."""


# --- reading ---------------------------------------------------------------------------------------


def _header_key(text: object) -> str:
    t = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s()（）\[\]【】_\-:：*]", "", t)


def _decode(data: bytes) -> str:
    # UTF-8 (with or without BOM) is tried first: GBK bytes almost never decode as UTF-8, while
    # UTF-8 bytes often decode as GBK into nonsense. GB18030 is GBK's superset.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(texts.IMPORT_BAD_ENCODING)


def _read_csv(path: Path) -> list[tuple[int, list]]:
    text = _decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = []
    start = 1
    for cells in reader:
        rows.append((start, cells))
        start = reader.line_num + 1  # a quoted cell may span lines: report where the row starts
    return rows


def _read_xlsx(path: Path) -> list[tuple[int, list]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several types for a file that is not a workbook
        raise ImportFileError(texts.import_bad_xlsx(e)) from None
    try:
        sheet = wb.worksheets[0]
        return [(n, list(cells)) for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()


def read_table(path: Path) -> tuple[dict[int, str], list[tuple[int, list]]]:
    """(column index → field, data rows with their line numbers). The header is the first non-empty row."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _read_xlsx(path)
    else:
        raise ImportFileError(texts.import_bad_suffix(path.suffix))
    rows = [(n, cells) for n, cells in rows if any(_cell(c) for c in cells)]
    if not rows:
        raise ImportFileError(texts.IMPORT_EMPTY)
    _, header = rows[0]
    columns: dict[int, str] = {}
    for i, h in enumerate(header):
        f = _HEADER_FIELD.get(_header_key(h))
        if f and f not in columns.values():
            columns[i] = f
    missing = [f for f in ("name", "credit_code", "role") if f not in columns.values()]
    if missing:
        raise ImportFileError(texts.import_missing_columns([HEADERS[f][0] for f in missing]))
    return columns, rows[1:]


# --- checking --------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _year(text: str, label: str, this_year: int, ahead: int) -> int | None:
    if not text:
        return None
    found = re.fullmatch(r"(\d{4})(?:\s*年(?:度)?)?", text) or re.match(r"(\d{4})[-/.年]", text)
    if not found:
        raise ValueError(texts.bad_year(label, text))
    year = int(found.group(1))
    if not FIRST_YEAR <= year <= this_year + ahead:
        raise ValueError(texts.year_out_of_range(label, year))
    return year


def _date(value: object, today: date, label: str = "入会时间") -> date | None:
    if isinstance(value, datetime):
        result = value.date()
    elif isinstance(value, date):
        result = value
    else:
        text = _cell(value)
        if not text:
            return None
        found = re.fullmatch(r"(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?", text)
        if not found:
            raise ValueError(texts.bad_date(text, label))
        y, m, d = (int(g) if g else 1 for g in found.groups())
        try:
            result = date(y, m, d)
        except ValueError:
            raise ValueError(texts.bad_date(text, label)) from None
    if not (FIRST_YEAR <= result.year and result <= today):
        raise ValueError(texts.date_out_of_range(result, label))
    return result


def _grade(text: str) -> str | None:
    t = text.upper().replace("级", "").replace(" ", "")
    if t.lower() in _NO_GRADE:
        return None
    t = _CN_DIGITS.get(t[:1], t[:1]) + t[1:] if t else t
    if re.fullmatch(r"A{1,5}", t):
        t = f"{len(t)}A"
    if t not in GRADES:
        raise ValueError(texts.bad_grade(text))
    return t


def role_spellings(roles: Sequence[str]) -> dict[str, str]:
    """Header-key spelling → role: each configured role, without its 单位, and the usual synonyms of
    the configured ones."""
    out = {_header_key(s): r for s, r in ROLE_SYNONYMS.items() if r in roles}
    for r in roles:
        out[_header_key(r)] = r
        if r.endswith("单位") and len(r) > 2:
            out[_header_key(r.removesuffix("单位"))] = r
    return out


def check_row(line: int, raw: dict[str, object], today: date, roles: Sequence[str]) -> MemberRow:
    """Normalise and validate one row; ValueError says what is wrong (in Chinese, for the report).
    `roles`: the federation's roles (`[members] roles`)."""
    cell = {f: _cell(raw.get(f)) for f in FIELDS}
    problems: list[str] = []

    name = re.sub(r"\s+", "", cell["name"])
    if not name:
        problems.append(texts.MISSING_NAME)
    elif len(name) > 200:
        problems.append(texts.NAME_TOO_LONG)

    code = credit_code.normalize(cell["credit_code"])
    if not code:
        problems.append(texts.MISSING_CODE)
    elif why := credit_code.problem(code):
        problems.append(texts.bad_code(cell["credit_code"], why))

    role = role_spellings(roles).get(_header_key(cell["role"]))
    if role is None:
        problems.append(texts.bad_role(cell["role"], roles))

    kind = KIND_ALIASES.get(_header_key(cell["kind"]))
    if kind is None and not cell["kind"] and not problems:
        kind = credit_code.KIND_OF_DIGIT.get(code[1])  # the code's type digit says it
    if kind is None:
        problems.append(texts.bad_kind(cell["kind"], KINDS))

    values: dict[str, object] = {}
    for f, parse in (
        ("joined_on", lambda: _date(raw.get("joined_on"), today)),
        ("grade", lambda: _grade(cell["grade"])),
        ("grade_year", lambda: _year(cell["grade_year"], "评估年度", today.year, 0)),
        ("dues_paid_through", lambda: _year(cell["dues_paid_through"], "会费缴至", today.year, 10)),
        ("registered_on", lambda: _date(raw.get("registered_on"), today, "登记日期")),
        ("eligible", lambda: checks.flag(cell["eligible"])),
        ("evaluations", lambda: checks.count(cell["evaluations"])),
        ("region", lambda: checks.region(cell["region"])),
    ):
        try:
            values[f] = parse()
        except ValueError as e:
            problems.append(str(e))
    if not problems:
        if values["grade"] and values["grade_year"] is None:
            problems.append(texts.GRADE_WITHOUT_YEAR)
        if values["grade_year"] is not None and not values["grade"]:
            problems.append(texts.YEAR_WITHOUT_GRADE)
        problems += checks.inconsistencies(values)

    phone = cell["contact_phone"]
    if phone and not re.fullmatch(r"[\d+\-() 、,，/转]{5,50}", phone):
        problems.append(texts.bad_phone(phone))
    if problems:
        raise ValueError("；".join(problems))
    return MemberRow(
        line=line,
        name=name,
        credit_code=code,
        kind=kind,
        role=role,
        contact_person=cell["contact_person"][:50],
        contact_phone=phone,
        **values,
    )


def parse_file(path: Path, today: date, roles: Sequence[str]) -> tuple[int, list[MemberRow], list[Rejected]]:
    """Read and check every row (sync: run it in a thread). Returns (rows read, good, rejected)."""
    columns, data = read_table(path)
    absent = frozenset(f for f in KEPT_WHEN_ABSENT if f not in columns.values())
    checked: list[tuple[int, str, MemberRow | str]] = []  # (line, code as written, row or reason)
    for line, cells in data:
        raw = {f: cells[i] for i, f in columns.items() if i < len(cells)}
        code = credit_code.normalize(_cell(raw.get("credit_code")))
        try:
            checked.append((line, code, replace(check_row(line, raw, today, roles), absent=absent)))
        except ValueError as e:
            checked.append((line, code, str(e)))
    lines_of: dict[str, list[int]] = {}
    for line, code, _ in checked:
        if code:
            lines_of.setdefault(code, []).append(line)
    # One name under two codes: one of the codes is probably mistyped, and the file does not say which.
    codes_of_name: dict[str, set[str]] = {}
    for _, _, result in checked:
        if isinstance(result, MemberRow):
            codes_of_name.setdefault(normalize(result.name), set()).add(result.credit_code)
    name_lines = {
        n: [ln for ln, _, r in checked if isinstance(r, MemberRow) and normalize(r.name) == n]
        for n, c in codes_of_name.items()
        if len(c) > 1
    }
    good: list[MemberRow] = []
    rejected: list[Rejected] = []
    for line, code, result in checked:
        reasons = []
        if code and len(lines_of[code]) > 1:
            # The file says two things about one unit and does not say which is right: neither is taken.
            reasons.append(texts.duplicate_code(code, lines_of[code]))
        if isinstance(result, MemberRow) and normalize(result.name) in name_lines:
            reasons.append(texts.duplicate_name(result.name, name_lines[normalize(result.name)]))
        if isinstance(result, str):
            reasons.append(result)
        if reasons:
            rejected.append(Rejected(line, "；".join(reasons)))
        else:
            good.append(result)
    rejected.sort(key=lambda r: r.line)
    return len(data), good, rejected
