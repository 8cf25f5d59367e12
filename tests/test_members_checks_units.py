"""The member importer's cell checks (store/members/checks.py) and the credit-code rules
(store/members/credit_code.py, GB 32100-2015), one value at a time: what each accepts, its edges, and
the reason each refusal gives in the import report."""

from __future__ import annotations

import random
from datetime import date

import pytest

from store.members import checks, credit_code

YES = ["是", "符合", "具备", "有", "有资格", "可参评", "y", "yes", "true", "1", "√", "✓"]
NO = ["否", "不符合", "不具备", "无", "无资格", "不可参评", "n", "no", "false", "0", "×", "✗"]


@pytest.mark.parametrize("text", YES + ["  YES ", "True", "Y"])
def test_every_spelling_of_yes(text):
    assert checks.flag(text) is True


@pytest.mark.parametrize("text", NO + [" No", "FALSE", "N "])
def test_every_spelling_of_no(text):
    assert checks.flag(text) is False


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_flag_is_not_stated(text):
    assert checks.flag(text) is None


@pytest.mark.parametrize("text", ["也许", "是的吧", "2", "yes!"])
def test_other_flags_are_refused_with_the_cell_as_written(text):
    with pytest.raises(ValueError) as refused:
        checks.flag(text)
    assert str(refused.value) == f"参评资格“{text}”应为“是”或“否”（或留空）"


@pytest.mark.parametrize(("text", "number"), [("0", 0), ("3", 3), ("3次", 3), ("3 次", 3), ("30", 30), ("030", 30)])
def test_counts(text, number):
    assert checks.count(text) == number


def test_an_empty_count_is_not_stated():
    assert checks.count("") is None


@pytest.mark.parametrize("text", ["31", "100", "0031", "三次", "次", "3次次", " 3", "3.5", "-1"])
def test_other_counts_are_refused_with_the_cell_as_written(text):
    with pytest.raises(ValueError) as refused:
        checks.count(text)
    assert str(refused.value) == f"参评次数“{text}”不是次数（应为 0 至 30 的整数）"


@pytest.mark.parametrize(("text", "stored"), [
    ("杭州市 西湖区", "杭州市西湖区"), ("浙江", "浙江"), ("浙江省/杭州市", "浙江省杭州市"), ("", "")])
def test_regions_are_stored_without_separators(text, stored):
    assert checks.region(text) == stored


def test_a_region_that_is_not_a_city_and_county_is_refused_with_the_cell_as_written():
    with pytest.raises(ValueError) as refused:
        checks.region("杭州 西湖")
    assert str(refused.value).startswith("所在地区“杭州 西湖”应为市名")


def values(**kw):
    return {"registered_on": None, "joined_on": None, "grade_year": None, "grade": "", "evaluations": None, **kw}


def test_a_row_that_agrees_with_itself_has_no_inconsistency():
    on = date(2015, 6, 1)
    assert checks.inconsistencies(values()) == []
    # The same year is not "before": joined and graded in the year of registration.
    assert checks.inconsistencies(values(registered_on=on, joined_on=date(2015, 1, 1), grade_year=2015,
                                         grade="4A", evaluations=1)) == []
    assert checks.inconsistencies(values(grade="", evaluations=0)) == []  # never evaluated, no grade
    assert checks.inconsistencies(values(grade="4A", evaluations=None)) == []  # count not stated
    # Without a registration date nothing is before it.
    assert checks.inconsistencies(values(joined_on=date(1990, 1, 1), grade_year=1990)) == []


def test_each_contradiction_is_named():
    on = date(2015, 6, 1)
    assert checks.inconsistencies(values(registered_on=on, joined_on=date(2014, 12, 31))) == ["入会时间早于登记日期"]
    assert checks.inconsistencies(values(registered_on=on, grade_year=2014)) == ["评估年度早于登记日期"]
    assert checks.inconsistencies(values(grade="3A", evaluations=0)) == ["有评估等级但参评次数为 0"]
    assert checks.inconsistencies(values(registered_on=on, joined_on=date(2010, 1, 1), grade_year=2012,
                                         grade="5A", evaluations=0)) == [
        "入会时间早于登记日期", "评估年度早于登记日期", "有评估等级但参评次数为 0"]


def gb32100_check(first17: str) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    return chars[(31 - sum(chars.index(c) * w for c, w in zip(first17, weights, strict=True)) % 31) % 31]


def test_the_check_character_is_gb_32100s():
    rng = random.Random(7)
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(300):
        first17 = "".join(rng.choice(chars) for _ in range(17))
        assert credit_code.check_character(first17) == gb32100_check(first17)
    # The sum a multiple of 31 gives "0", not the 32nd character that does not exist.
    assert credit_code.check_character("00000000000000000") == "0"


# A published code, and bodies completed with GB 32100-2015's check (weights 3^i mod 31, the check
# 31 - sum mod 31, 31 written as 0) as the test computes it.
VALID = ["91350100M000100Y43", *(b + gb32100_check(b) for b in ("51330000MJ0000000", "53330000MJ0000000",
                                                                "5133010050000001A", "12100000400000398"))]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes(code):
    assert credit_code.problem(code) is None and credit_code.is_valid(code)
    assert credit_code.is_valid(" " + code.lower()[:9] + " " + code.lower()[9:] + "\t")


def test_normalize_is_what_people_paste():
    assert credit_code.normalize("９１３５０１００ｍ０００１００ｙ４３") == "91350100M000100Y43"
    assert credit_code.normalize(" 9135 0100\u3000M000100Y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(("code", "reason"), [
    ("", "应为 18 位，实为 0 位"),
    ("91350100M000100Y4", "应为 18 位，实为 17 位"),
    ("91350100M000100Y433", "应为 18 位，实为 19 位"),
    ("91350100M0O0100SI3", "含有不允许的字符 IOS（不使用 I、O、Z、S、V）"),
    ("91350100M000100Y4z", "含有不允许的字符 z（不使用 I、O、Z、S、V）"),
    ("913501A0M000100Y43", "第 3–8 位应为行政区划代码（数字）"),
    ("91A50100M000100Y43", "第 3–8 位应为行政区划代码（数字）"),  # the division's first digit too
    ("9135010AM000100Y43", "第 3–8 位应为行政区划代码（数字）"),  # and its last
    ("9A350100M000100Y43", "校验位不正确"),
    ("91350100M000100Y44", "校验位不正确"),
])
def test_what_is_wrong_with_a_code(code, reason):
    assert credit_code.problem(code) == reason
    assert not credit_code.is_valid(code)


def gb11714_check(body: str) -> str:
    value = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    digit = 11 - sum(v * w for v, w in zip(value, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


@pytest.mark.parametrize(("kind", "digit"), [("社会团体", "1"), ("社会服务机构", "2"), ("基金会", "3"), ("其他", "9")])
def test_generated_codes_are_well_formed_civil_affairs_codes(kind, digit):
    rng = random.Random(kind)
    checks_seen = set()
    for _ in range(400):
        code = credit_code.generate(rng, kind, "330106")
        assert credit_code.problem(code) is None
        assert code[:8] == "5" + digit + "330106"
        org = code[8:17]  # the organisation code carries its own GB 11714 check character
        assert org[8] == gb11714_check(org[:8])
        checks_seen.add(org[8])
    assert {"X", "0"} <= checks_seen  # both special check characters occur
    assert credit_code.generate(random.Random(1))[:8] == "51330000"  # the defaults
    assert credit_code.KIND_OF_DIGIT == {"1": "社会团体", "2": "社会服务机构", "3": "基金会"}
