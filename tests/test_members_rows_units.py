"""One row of a member table checked (store/members/table.py check_row) and a table read
(read_table, parse_file), without a database: each field's spellings and edges, and the reason the
import report gives for each refusal."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime

import pytest

from store.members import credit_code, table, texts

TODAY = date(2026, 6, 15)
ROLES = ["会长单位", "副会长单位", "理事单位", "会员单位"]
CODE = credit_code.generate(random.Random(3), "社会团体", "330000")


def raw(**kw) -> dict:
    base = {"name": "浙江省甲协会", "credit_code": CODE, "kind": "社会团体", "role": "会员单位",
            "joined_on": "2018-03-01", "grade": "4A", "grade_year": "2021", "dues_paid_through": "2025",
            "region": "浙江省", "contact_person": "王芳", "contact_phone": "0571-88001234"}
    return {**base, **kw}


def check(**kw) -> table.MemberRow:
    return table.check_row(7, raw(**kw), TODAY, ROLES)


def refused(**kw) -> str:
    with pytest.raises(ValueError) as e:
        check(**kw)
    return str(e.value)


def test_a_good_row_normalised():
    r = check(name=" 浙江省 甲协会 ", credit_code=" " + CODE.lower(), role="会员", grade="四A级", region="杭州市 西湖区")
    assert (r.line, r.name, r.credit_code, r.kind, r.role) == (7, "浙江省甲协会", CODE, "社会团体", "会员单位")
    assert (r.joined_on, r.grade, r.grade_year, r.dues_paid_through, r.region) == (
        date(2018, 3, 1), "4A", 2021, 2025, "杭州市西湖区")
    assert (r.contact_person, r.contact_phone, r.registered_on, r.eligible, r.evaluations) == (
        "王芳", "0571-88001234", None, None, None)
    assert r.values()["name"] == "浙江省甲协会" and set(r.values()) == set(table.FIELDS)


def test_names():
    assert check(name="协" * 200).name == "协" * 200
    assert refused(name="协" * 201) == texts.NAME_TOO_LONG
    assert refused(name="  ") == texts.MISSING_NAME


def test_codes():
    assert refused(credit_code="") == texts.MISSING_CODE
    bad = CODE[:17] + ("0" if CODE[17] != "0" else "1")
    assert refused(credit_code=bad) == texts.bad_code(bad, "校验位不正确")


def test_roles_their_short_forms_and_the_synonyms_of_configured_ones_only():
    assert check(role="理事").role == "理事单位"
    assert check(role="Vice President").role == "副会长单位"
    assert check(role="普通会员").role == "会员单位"
    assert refused(role="常务副会长单位") == texts.bad_role("常务副会长单位", ROLES)  # not configured
    assert refused(role="Executive Vice President") == texts.bad_role("Executive Vice President", ROLES)
    assert refused(role="") == texts.bad_role("", ROLES)
    assert table.role_spellings(["单位"]) == {"单位": "单位"}  # "单位" alone keeps its name
    assert table.check_row(2, raw(role="顾问"), TODAY, ["顾问单位"]).role == "顾问单位"
    assert table.check_row(2, raw(role="主"), TODAY, ["主单位"]).role == "主单位"  # one character is enough


def test_kinds_and_the_codes_type_digit_when_the_cell_is_empty():
    assert check(kind="民非").kind == "社会服务机构"
    assert check(kind="Foundation").kind == "基金会"
    foundation = credit_code.generate(random.Random(4), "基金会", "330000")
    assert check(kind="", credit_code=foundation).kind == "基金会"
    assert refused(kind="学会") == texts.bad_kind("学会", table.KINDS)
    # With another problem in the row, the kind is not guessed from a code that may be wrong.
    assert refused(kind="", name="") == texts.MISSING_NAME + "；" + texts.bad_kind("", table.KINDS)


@pytest.mark.parametrize(("text", "on"), [
    ("2018", date(2018, 1, 1)), ("2018年", date(2018, 1, 1)), ("2018-03", date(2018, 3, 1)),
    ("2018年3月", date(2018, 3, 1)), ("2018.3.4", date(2018, 3, 4)), ("2018/03/04", date(2018, 3, 4)),
    ("2018年3月4日", date(2018, 3, 4)), ("1949-01-01", date(1949, 1, 1)), ("2026-06-15", TODAY),
    (datetime(2019, 5, 6, 10, 30), date(2019, 5, 6)), (date(2019, 5, 7), date(2019, 5, 7)), ("", None),
])
def test_dates(text, on):
    assert check(joined_on=text).joined_on == on


@pytest.mark.parametrize("text", ["2018-13-01", "2018年2月30日", "18-03-01", "2018-03-01 10:00", "三月"])
def test_what_is_not_a_date(text):
    assert refused(joined_on=text) == texts.bad_date(text)
    assert refused(registered_on=text) == texts.bad_date(text, "登记日期")  # named as its column


@pytest.mark.parametrize("on", [date(1948, 12, 31), date(2026, 6, 16)])
def test_dates_before_1949_or_after_today(on):
    assert refused(joined_on=on.isoformat()) == texts.date_out_of_range(on)
    assert refused(registered_on=on) == texts.date_out_of_range(on, "登记日期")


@pytest.mark.parametrize(("text", "year"), [("2021", 2021), ("2021年", 2021), ("2021年度", 2021),
                                            ("2021-05", 2021), ("2021.5", 2021), ("2021年5月", 2021)])
def test_years(text, year):
    assert check(grade_year=text).grade_year == year


def test_year_edges_grade_year_up_to_this_year_and_dues_ten_years_ahead():
    assert check(grade_year="2026").grade_year == 2026
    assert refused(grade_year="2027") == texts.year_out_of_range("评估年度", 2027)
    assert refused(grade_year="1948") == texts.year_out_of_range("评估年度", 1948)
    assert check(grade_year="1949", joined_on="").grade_year == 1949
    assert check(dues_paid_through="2036").dues_paid_through == 2036
    assert refused(dues_paid_through="2037") == texts.year_out_of_range("会费缴至", 2037)
    assert refused(dues_paid_through="明年") == texts.bad_year("会费缴至", "明年")
    assert check(dues_paid_through="").dues_paid_through is None


@pytest.mark.parametrize(("text", "grade"), [("5A", "5A"), ("4a", "4A"), ("AAA", "3A"), ("A", "1A"),
                                             ("三A级", "3A"), ("2 A", "2A"), ("一A", "1A"), ("五A", "5A")])
def test_grades(text, grade):
    assert check(grade=text).grade == grade


@pytest.mark.parametrize("text", ["", "无", "未评估", "N/A", "-"])
def test_no_grade(text):
    assert check(grade=text, grade_year="").grade is None


@pytest.mark.parametrize("text", ["6A", "AAAAAA", "B", "优秀"])
def test_what_is_not_a_grade(text):
    assert refused(grade=text) == texts.bad_grade(text)


def test_a_grade_and_its_year_go_together():
    assert refused(grade_year="") == texts.GRADE_WITHOUT_YEAR
    assert refused(grade="") == texts.YEAR_WITHOUT_GRADE
    assert refused(registered_on="2022-01-01", grade_year="2021", joined_on="2022-05-01") == texts.GRADED_BEFORE_REGISTERED
    # Only checked when every value could be read: a bad grade is not also "a year without a grade".
    assert refused(grade="优秀") == texts.bad_grade("优秀")


@pytest.mark.parametrize("phone", ["12345", "0571-88001234转123", "+86 (571) 8800 1234", "1" * 50, ""])
def test_phones(phone):
    assert check(contact_phone=phone).contact_phone == phone


@pytest.mark.parametrize("phone", ["1234", "1" * 51, "call me", "0571#88"])
def test_what_is_not_a_phone(phone):
    assert refused(contact_phone=phone) == texts.bad_phone(phone)


def test_the_contact_is_cut_to_its_column_and_problems_are_all_said():
    assert check(contact_person="张" * 60).contact_person == "张" * 50
    assert refused(name="", credit_code="", contact_phone="x") == "；".join(
        [texts.MISSING_NAME, texts.MISSING_CODE, texts.bad_phone("x")])


def test_cells_as_spreadsheets_hold_them():
    assert check(dues_paid_through=2025.0, grade_year=2021, evaluations=3.0).evaluations == 3
    assert check(name="ＡＢＣ协会").name == "ABC协会"  # full-width, as typed in Chinese input


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return path


HEADER = ["单位名称", "统一社会信用代码", "会员类别"]


def test_read_table_finds_the_header_and_the_columns(tmp_path):
    path = write_csv(tmp_path / "a.csv", [[], ["", ""], ["名称 ", "信用代码", "会员类别", "名称", "备注"],
                                          ["甲", CODE, "会员单位", "乙", "x"]], encoding="gbk")
    columns, rows = table.read_table(path)
    assert columns == {0: "name", 1: "credit_code", 2: "role"}  # the second 名称 is not the name
    assert rows == [(4, ["甲", CODE, "会员单位", "乙", "x"])]


def test_read_table_refuses_files_it_cannot_read(tmp_path):
    with pytest.raises(table.ImportFileError) as e:
        table.read_table(write_csv(tmp_path / "a.csv", [["名称", "会员类别"], ["甲", "会员单位"]]))
    assert str(e.value) == texts.import_missing_columns(["统一社会信用代码"])
    with pytest.raises(table.ImportFileError) as e:
        table.read_table(write_csv(tmp_path / "b.csv", [[], [" "]]))
    assert str(e.value) == texts.IMPORT_EMPTY
    with pytest.raises(table.ImportFileError) as e:
        table.read_table(write_csv(tmp_path / "c.txt", [HEADER]))
    assert str(e.value) == texts.import_bad_suffix(".txt")
    bad = tmp_path / "d.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(table.ImportFileError) as e:
        table.read_table(bad)
    assert str(e.value) == texts.import_bad_xlsx(Exception("File is not a zip file"))  # openpyxl's reason
    latin = tmp_path / "e.csv"
    latin.write_bytes(b"\xff\xfe\x00\xd8")
    with pytest.raises(table.ImportFileError) as e:
        table.read_table(latin)
    assert str(e.value) == texts.IMPORT_BAD_ENCODING


def test_a_quoted_cell_over_two_lines_reports_where_its_row_starts(tmp_path):
    other = credit_code.generate(random.Random(5), "社会团体", "330000")
    path = tmp_path / "a.csv"
    path.write_text(f"单位名称,统一社会信用代码,会员类别\n\"甲\n协会\",{CODE},会员单位\n乙协会,{other},会员单位\n",
                    encoding="utf-8")
    _, rows = table.read_table(path)
    assert [n for n, _ in rows] == [2, 4]


def test_semicolon_files_are_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(f"单位名称;统一社会信用代码;会员类别\n甲协会;{CODE};会员单位\n", encoding="utf-8-sig")
    columns, rows = table.read_table(path)
    assert rows == [(2, ["甲协会", CODE, "会员单位"])]


def test_parse_file_a_code_or_a_name_twice_rejects_those_rows(tmp_path):
    a, b, c = (credit_code.generate(random.Random(s), "社会团体", "330000") for s in (11, 12, 13))
    path = write_csv(tmp_path / "a.csv", [
        [*HEADER, "单位类型", "所在地区"],
        ["甲协会", a, "会员单位", "社会团体", "浙江省"],
        ["乙协会", b, "会员单位", "社会团体", "浙江省"],
        ["甲协会", c, "理事单位", "社会团体", "浙江省"],  # the name of line 2 under another code
        ["丙协会", b, "秘书长单位", "社会团体", "浙江省"],  # the code of line 3 again, and a role not configured
        ["丁协会", "", "会员单位", "社会团体", "浙江省"],
    ])
    count, good, rejected = table.parse_file(path, TODAY, ROLES)
    assert count == 5 and good == []
    assert [(r.line, r.reason) for r in rejected] == [
        (2, texts.duplicate_name("甲协会", [2, 4])),
        (3, texts.duplicate_code(b, [3, 5])),
        (4, texts.duplicate_name("甲协会", [2, 4])),
        (5, texts.duplicate_code(b, [3, 5]) + "；" + texts.bad_role("秘书长单位", ROLES)),
        (6, texts.MISSING_CODE),
    ]


def test_parse_file_says_which_kept_columns_the_file_lacks(tmp_path):
    path = write_csv(tmp_path / "a.csv", [[*HEADER, "单位类型", "参评次数"], ["甲协会", CODE, "会员单位", "社会团体", "2"]])
    count, [row], rejected = table.parse_file(path, TODAY, ROLES)
    assert count == 1 and rejected == []
    assert row.absent == frozenset({"registered_on", "eligible"}) and row.evaluations == 2
    assert "registered_on" not in row.values() and row.values()["evaluations"] == 2
    short = write_csv(tmp_path / "b.csv", [[*HEADER, "单位类型", "所在地区"], ["甲协会", CODE, "会员单位"]])
    _, [row], _ = table.parse_file(short, TODAY, ROLES)  # a short row: the missing cells are empty
    assert row.kind == "社会团体" and row.region == ""


def test_a_workbooks_cells_are_read_as_values_never_as_formulas(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append([*HEADER, "联系人"])
    wb.active.append(["甲协会", CODE, "会员单位", '="王"&"芳"'])  # a formula no program has computed yet
    wb.active.append(["乙协会", credit_code.generate(random.Random(6), "社会团体", "330000"), "理事单位", "李"])
    path = tmp_path / "a.xlsm"  # a workbook with macros is read as well
    wb.save(path)
    columns, rows = table.read_table(path)
    assert rows[0] == (2, ["甲协会", CODE, "会员单位", None])  # its value (none), not its text
    assert rows[1][0] == 3 and rows[1][1][3] == "李"


def test_a_cell_over_two_lines_of_a_windows_file_is_kept_as_written(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(f'单位名称,统一社会信用代码,会员类别,联系人\r\n甲协会,{CODE},会员单位,"王芳\r\n李明"\r\n'.encode())
    _, rows = table.read_table(path)
    assert rows == [(2, ["甲协会", CODE, "会员单位", "王芳\r\n李明"])]


def test_a_file_with_old_mac_line_ends_is_read(tmp_path):
    path = tmp_path / "a.csv"  # Excel for Mac's "CSV (Macintosh)": CR alone ends a line
    path.write_bytes(f'单位名称,统一社会信用代码,会员类别,联系人\r甲协会,{CODE},会员单位,"王芳\r李明"\r'.encode())
    _, rows = table.read_table(path)
    assert rows == [(2, ["甲协会", CODE, "会员单位", "王芳\r李明"])]
