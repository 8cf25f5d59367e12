"""The registry's figures (store/members/stats.py) on SQLite and PostgreSQL: the federation's own
sentence from a registry that matches its news page, and from another; any past day from history;
eligibility from 参评资格 and from the registration date; expiring grades; the ranking's tie rules."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

import pytest

from store.members import credit_code, eligibility, stats_texts
from store.members.importer import ImportReport, upsert
from store.members.stats import percent, place_in_ranking, registry_figures
from store.members.status import first_valid_grade_year, grade_expires_on, grade_is_valid
from store.members.table import MemberRow

ROLES = ["会长单位", "常务副会长单位", "副会长单位", "理事单位", "会员单位"]
TODAY = date(2026, 1, 5)  # FakeClock's day in Asia/Shanghai
# The federation's news page, word for word as we hold it (NFKC-normalised: its commas came out ASCII).
SEED_SENTENCE = (
    "在符合参评条件的435家单位会员中,有360家获得评估等级。"
    "其中,5A级社会组织207家、4A级社会组织115家,约占总会内等级社会组织总数的89%。"
)


class Units:
    """Member rows with unique names and valid codes, for building registries of a given shape."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, name: str | None = None, *, grade: str | None = None, grade_year: int | None = None,
                 registered: str | None = "2015-06-01", eligible: bool | None = None, evaluations: int | None = None,
                 kind: str = "社会团体", role: str = "会员单位", region: str = "杭州市") -> MemberRow:  # fmt: skip
        self.n += 1
        return MemberRow(
            line=self.n,
            name=name or f"浙江省第{self.n:04d}号协会",
            credit_code=credit_code.generate(random.Random(self.n * 7919), kind, "330100"),
            kind=kind,
            role=role,
            joined_on=None,
            grade=grade,
            grade_year=grade_year if grade_year or not grade else 2022,
            dues_paid_through=None,
            region=region,
            contact_person="",
            contact_phone="",
            registered_on=date.fromisoformat(registered) if registered else None,
            eligible=eligible,
            evaluations=evaluations,
        )


async def _load(env, rows: list[MemberRow], source: str = "test") -> None:
    report = ImportReport("test")
    await upsert(env.db, rows, env.clock.now(), source, report)
    assert not report.rejected


async def _figures(env, day: date = TODAY, **kw):
    return await registry_figures(env.db, day, timezone="Asia/Shanghai", roles=ROLES, **kw)


def seed_registry() -> list[MemberRow]:
    """435 units eligible, 360 of them with a valid grade (207 5A, 115 4A), as the news page says;
    and units that are not eligible or whose grade expired."""
    unit = Units()
    rows = [unit(grade="5A") for _ in range(207)]
    rows += [unit(grade="4A", grade_year=2024) for _ in range(115)]
    rows += [unit(grade="3A", grade_year=2021) for _ in range(30)]
    rows += [unit(grade="2A", grade_year=2023) for _ in range(8)]
    rows += [unit(grade="3A", grade_year=2019) for _ in range(40)]  # eligible, grade expired
    rows += [unit() for _ in range(30)]  # eligible, never evaluated
    rows += [unit(registered=None, eligible=True) for _ in range(5)]  # eligible as the file says
    rows += [unit(registered="2024-06-01") for _ in range(12)]  # registered under two years ago
    rows += [unit(eligible=False) for _ in range(3)]  # the file says 否
    return rows


async def test_a_registry_like_the_federations_prints_its_sentence_exactly(members_env):
    await _load(members_env, seed_registry())
    figures = await _figures(members_env)

    sentence = stats_texts.headline(figures.headline)
    assert unicodedata.normalize("NFKC", sentence) == SEED_SENTENCE
    assert sentence.count("，") == 3 and "," not in sentence  # a phone shows Chinese commas
    assert (figures.headline.eligible, figures.headline.graded) == (435, 360)
    assert (figures.total.units, figures.total.expired, figures.total.ungraded) == (450, 40, 50)
    assert figures.eligibility == {
        eligibility.STATED_YES: 5,
        eligibility.STATED_NO: 3,
        eligibility.REGISTERED: 430,
        eligibility.TOO_RECENT: 12,
        eligibility.EVALUATED: 0,
        eligibility.UNKNOWN: 0,
    }


async def test_another_registry_prints_its_own_numbers(members_env):
    unit = Units()
    rows = [unit(grade="5A") for _ in range(3)] + [unit(grade="4A") for _ in range(2)]
    rows += [unit(grade="1A"), unit(grade="2A", grade_year=2025), unit(grade="3A", grade_year=2023), unit()]
    rows += [unit(registered="2025-01-01")]
    await _load(members_env, rows)

    figures = await _figures(members_env)
    # 5 of 8 graded = 62.5 %: rounded half up.
    assert stats_texts.headline(figures.headline) == (
        "在符合参评条件的9家单位会员中，有8家获得评估等级。"
        "其中，5A级社会组织3家、4A级社会组织2家，约占总会内等级社会组织总数的63%。"
    )


async def test_no_graded_unit_and_an_empty_registry(members_env):
    assert stats_texts.headline((await _figures(members_env)).headline) == (
        "在符合参评条件的0家单位会员中，暂无单位获得评估等级。"
    )
    unit = Units()
    await _load(members_env, [unit(), unit(grade="4A", grade_year=2018)])
    figures = await _figures(members_env)
    assert stats_texts.headline(figures.headline) == "在符合参评条件的2家单位会员中，暂无单位获得评估等级。"


def test_the_percentage_is_rounded_half_up():
    assert [percent(322, 360), percent(1, 8), percent(5, 8), percent(2, 3), percent(1, 3)] == [
        89,
        13,
        63,
        67,
        33,
    ]
    assert percent(0, 0) is None and percent(0, 5) == 0 and percent(5, 5) == 100


def test_the_validity_rule_is_the_one_status_uses():
    # A grade awarded in Y is valid through 31 December of Y+5.
    for year in range(2015, 2027):
        assert grade_is_valid(year, date(2026, 1, 5)) == (year >= first_valid_grade_year(date(2026, 1, 5)))
    assert grade_expires_on(2021) == date(2026, 12, 31)
    assert grade_is_valid(2021, date(2026, 12, 31)) and not grade_is_valid(2021, date(2027, 1, 1))


async def test_kinds_roles_regions_and_grades(members_env):
    unit = Units()
    rows = [
        unit(grade="5A", kind="基金会", role="会长单位", region="浙江省"),
        unit(grade="4A", kind="社会服务机构", region="杭州市西湖区"),
        unit(grade="4A", region="杭州市西湖区"),
        unit(region="杭州市"),
        unit(grade="3A", grade_year=2019, region="宁波市鄞州区", role="理事单位"),
        unit(region=""),
    ]
    await _load(members_env, rows)
    f = await _figures(members_env)

    assert [(t.label, t.units) for t in f.by_kind] == [("社会团体", 4), ("基金会", 1), ("社会服务机构", 1)]
    assert [(t.label, t.units) for t in f.by_role] == [("会长单位", 1), ("理事单位", 1), ("会员单位", 4)]
    regions = {t.label: (t.units, [(c.label, c.units) for c in t.counties]) for t in f.by_region}
    assert regions == {
        "杭州市": (3, [("西湖区", 2), ("", 1)]),
        "浙江省": (1, [("", 1)]),
        "宁波市": (1, [("鄞州区", 1)]),
        "": (1, [("", 1)]),
    }
    assert f.by_region[-1].label == ""  # units without a region come last
    assert f.total.grades == {"5A": 1, "4A": 2, "3A": 0, "2A": 0, "1A": 0}
    assert (f.total.expired, f.total.ungraded) == (1, 2)


async def test_a_past_day_is_the_registry_as_it_stood_then(members_env):
    """History turns the registry back: grades, roles, regions and 参评资格 as they were, units added
    later absent, a unit that left since still counted."""
    env, unit = members_env, Units()
    a = unit("浙江省甲协会", grade="4A", grade_year=2021, region="杭州市", registered=None)
    b = unit("浙江省乙协会", grade="5A", grade_year=2022, role="理事单位", eligible=False)
    c = unit("浙江省丙协会", grade="3A", grade_year=2021)
    await _load(env, [a, b, c])
    env.clock.advance(40 * 86400)  # 2026-02-14
    await _load(env, [
        MemberRow(**{**a.__dict__, "grade": "5A", "grade_year": 2025, "region": "宁波市", "evaluations": 2,
                     "registered_on": date(2010, 1, 1)}),
        MemberRow(**{**b.__dict__, "role": "副会长单位", "eligible": True}),
        unit("浙江省丁协会", grade="4A", grade_year=2025),
    ], "import second.xlsx")  # fmt: skip
    from store.members.importer import retire

    await retire(env.db, c.credit_code, env.clock.now())

    before = await _figures(env, date(2026, 1, 20))
    assert before.total.units == 3
    assert before.total.grades == {"5A": 1, "4A": 1, "3A": 1, "2A": 0, "1A": 0}
    assert [(t.label, t.units) for t in before.by_role] == [("理事单位", 1), ("会员单位", 2)]
    assert [t.label for t in before.by_region] == ["杭州市"]
    assert (before.headline.eligible, before.headline.graded) == (2, 2)  # 乙 said 否 then
    assert (before.eligibility[eligibility.EVALUATED], before.eligibility[eligibility.STATED_NO]) == (1, 1)
    assert [r.name for r in before.ranking] == ["浙江省乙协会", "浙江省甲协会", "浙江省丙协会"]

    now = await _figures(env, date(2026, 2, 14))
    assert now.total.units == 3  # 丙 left, 丁 joined
    assert now.total.grades == {"5A": 2, "4A": 1, "3A": 0, "2A": 0, "1A": 0}
    assert [(t.label, t.units) for t in now.by_role] == [("副会长单位", 1), ("会员单位", 2)]
    assert (now.headline.eligible, now.headline.graded) == (3, 3)
    assert (now.eligibility[eligibility.EVALUATED], now.eligibility[eligibility.REGISTERED]) == (0, 2)
    assert [r.name for r in now.ranking] == ["浙江省甲协会", "浙江省乙协会", "浙江省丁协会"]
    assert now.ranking[0].evaluations == 2

    # The day before anything was imported: nothing.
    assert (await _figures(env, date(2026, 1, 4))).total.units == 0
    # A place in the ranking on a past day, and for a unit that did not exist then.
    ids = {r.name: r.member_id for r in now.ranking}
    assert await place_in_ranking(env.db, ids["浙江省甲协会"], date(2026, 1, 20), "Asia/Shanghai") == (2, 3)
    assert await place_in_ranking(env.db, ids["浙江省丁协会"], date(2026, 1, 20), "Asia/Shanghai") is None


async def test_eligibility_from_the_file_or_two_full_years_since_registration(members_env):
    unit = Units()
    rows = [
        unit("浙江省甲协会", registered="2024-01-05"),  # two full years on 2026-01-05: eligible
        unit("浙江省乙协会", registered="2024-01-06"),  # one day short
        unit("浙江省丙协会", registered="2024-01-06", eligible=True),  # the file's 是 decides
        unit("浙江省丁协会", registered="2010-01-01", eligible=False),  # the file's 否 decides
        unit("浙江省戊协会", registered=None, grade="3A", grade_year=2018),  # no date, evaluated before
        unit("浙江省己协会", registered=None),  # no date, never evaluated: unknown
        unit("浙江省庚协会", registered="2024-02-29"),
    ]
    await _load(members_env, rows)
    f = await _figures(members_env)
    assert f.eligibility == {
        eligibility.STATED_YES: 1,
        eligibility.STATED_NO: 1,
        eligibility.REGISTERED: 1,
        eligibility.TOO_RECENT: 2,
        eligibility.EVALUATED: 1,
        eligibility.UNKNOWN: 1,
    }
    assert f.total.eligible == 3
    # Registered on 29 February 2024: two full years on 1 March 2026, not on 28 February.
    assert (
        eligibility.registered_by(date(2026, 2, 28))
        < date(2024, 2, 29)
        <= eligibility.registered_by(date(2026, 3, 1))
    )
    assert eligibility.registered_by(date(2028, 2, 29)) == date(2026, 2, 28)
    later = await _figures(members_env, date(2026, 1, 5))
    assert later.total.eligible == 3


@pytest.mark.parametrize(("months", "expected"), [(0, []), (11, []), (12, ["2021"]), (24, ["2021", "2022"])])
async def test_grades_expiring_within_n_months(members_env, months, expected):
    unit = Units()
    rows = [unit(f"浙江省{y}协会", grade="4A", grade_year=int(y)) for y in ("2020", "2021", "2022", "2023")]
    await _load(members_env, rows)
    # On 2026-01-05 a 2021 grade has 360 days left (31 December 2026): within 12 months, not 11.
    f = await _figures(members_env, months=months, list_expiring=True)
    assert [e.name.removeprefix("浙江省").removesuffix("协会") for e in f.expiring_units] == expected
    assert f.total.expiring == len(expected)
    assert all(e.expires_on == date(e.grade_year + 5, 12, 31) for e in f.expiring_units)
    # 2020's grade expired on 31 December 2025: not "expiring", expired.
    assert f.total.expired == 1


async def test_the_ranking_grade_then_evaluations_then_latest_year_then_name(members_env):
    unit = Units()
    rows = [
        unit("浙江省乙协会", grade="4A", grade_year=2022, evaluations=2),
        unit(
            "浙江省甲协会", grade="4A", grade_year=2022, evaluations=2
        ),  # tie: 乙 (U+4E59) before 甲 (U+7532)
        unit(
            "Zhejiang Alpha Association", grade="4A", grade_year=2022, evaluations=2
        ),  # Latin before Chinese
        unit("浙江省丙协会", grade="4A", grade_year=2024, evaluations=2),  # more recent: ahead of 甲/乙
        unit("浙江省丁协会", grade="4A", grade_year=2021, evaluations=3),  # more evaluations: ahead of all 4A
        unit("浙江省戊协会", grade="5A", grade_year=2021, evaluations=1),  # the grade comes first
        unit("浙江省己协会", grade="5A", grade_year=2019, evaluations=4),  # expired: counts as no grade
        unit("浙江省庚协会", grade="1A", grade_year=2023),  # no 参评次数 on file: one evaluation
        unit("浙江省辛协会"),  # never evaluated
    ]
    await _load(members_env, rows)
    f = await _figures(members_env, top=None)
    ranking = [(r.place, r.name, r.grade, r.evaluations, r.latest_year) for r in f.ranking]
    assert ranking == [
        (1, "浙江省戊协会", "5A", 1, 2021),
        (2, "浙江省丁协会", "4A", 3, 2021),
        (3, "浙江省丙协会", "4A", 2, 2024),
        (4, "Zhejiang Alpha Association", "4A", 2, 2022),
        (5, "浙江省乙协会", "4A", 2, 2022),
        (6, "浙江省甲协会", "4A", 2, 2022),
        (7, "浙江省庚协会", "1A", 1, 2023),
        (8, "浙江省己协会", None, 4, 2019),
        (9, "浙江省辛协会", None, 0, None),
    ]
    # Every unit's own place (我的状态) agrees with the list.
    for r in f.ranking:
        assert await place_in_ranking(members_env.db, r.member_id, TODAY, "Asia/Shanghai") == (r.place, 9)
    assert [r.name for r in (await _figures(members_env, top=3)).ranking] == [n for _, n, *_ in ranking[:3]]


async def test_the_cache_answers_until_the_registry_changes(members_env):
    from store.members.stats import FiguresCache

    cache, unit = FiguresCache(), Units()
    await _load(members_env, [unit(grade="5A")])
    first = await _figures(members_env, cache=cache)
    assert await _figures(members_env, cache=cache) is first
    await _load(members_env, [unit(grade="4A")])  # an import bumps the registry version
    second = await _figures(members_env, cache=cache)
    assert second is not first and second.total.units == 2
