"""Importing the member registry: xlsx and csv (UTF-8, UTF-8 with BOM, GBK), an exact report of the
bad rows, nothing of a bad row written, idempotent re-imports with history, dry runs, retiring."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from main import main
from store.members import credit_code
from store.members.importer import retire
from store.members.index import registry_version
from store.models.members import Member, MemberHistory
from tests.fixtures.members import HEADER, code, row, write_csv, write_xlsx

GOOD_A = code(1)
BAD_CHECK = code(2)[:17] + ("0" if code(2)[17] != "0" else "1")
UNKNOWN_ROLE = code(3)
DUPLICATE = code(4)
NO_NAME = code(5)
GOOD_D = code(6, "基金会", "330100")

ROWS = [
    HEADER,
    row("浙江省婚姻家庭协会", GOOD_A, "副会长单位"),  # line 2
    row("浙江省慈善联合总会", BAD_CHECK, "会长单位"),  # line 3
    row("浙江省老年体育协会", UNKNOWN_ROLE, "名誉会长单位"),  # line 4
    row("浙江省银行业协会", DUPLICATE, "理事单位"),  # line 5
    row("", NO_NAME),  # line 6
    row("浙江省银行业学会", DUPLICATE.lower(), "会员单位"),  # line 7: the same code, typed in lower case
    row(
        "杭州市青少年发展基金会",
        GOOD_D,
        "理事",
        kind="基金会",
        grade="AAAAA",
        grade_year="2022年",
        dues="2026",
    ),
]
ROLES = "会长单位、常务副会长单位、副会长单位、理事单位、会员单位"
EXPECTED_REJECTED = [
    (3, f"统一社会信用代码“{BAD_CHECK}”无效：校验位不正确"),
    (4, f"未知的会员类别“名誉会长单位”（应为 {ROLES}；如本会确有此类别，请把它加到 config.toml 的 [members] roles 中）"),
    (5, f"统一社会信用代码 {DUPLICATE} 在文件中重复出现（第 5、7 行），两行均未导入"),
    (6, "缺少单位名称"),
    (7, f"统一社会信用代码 {DUPLICATE} 在文件中重复出现（第 5、7 行），两行均未导入"),
]


def _write(tmp_path, fmt: str):
    if fmt == "xlsx":
        return write_xlsx(tmp_path / "members.xlsx", ROWS)
    return write_csv(tmp_path / f"members-{fmt}.csv", ROWS, encoding=fmt)


async def _members(env) -> dict[str, Member]:
    async with env.db() as session:
        return {m.credit_code: m for m in await session.scalars(select(Member))}


@pytest.mark.parametrize("fmt", ["xlsx", "utf-8", "utf-8-sig", "gbk"])
async def test_import_reports_each_bad_row_and_imports_the_good_ones(members_env, tmp_path, fmt):
    report = await members_env.import_file(_write(tmp_path, fmt))

    assert [(r.line, r.reason) for r in report.rejected] == EXPECTED_REJECTED
    assert not report.ok and report.rows == 7
    assert sorted(c.credit_code for c in report.added) == sorted([GOOD_A, GOOD_D])
    members = await _members(members_env)
    assert set(members) == {GOOD_A, GOOD_D}  # nothing of a rejected row was written
    a, d = members[GOOD_A], members[GOOD_D]
    assert (a.name, a.role, a.kind, a.grade, a.grade_year, a.dues_paid_through) == (
        "浙江省婚姻家庭协会",
        "副会长单位",
        "社会团体",
        "4A",
        2021,
        2025,
    )
    assert (a.contact_person, a.contact_phone, a.joined_on.isoformat()) == (
        "王芳",
        "0571-88001234",
        "2018-03-01",
    )
    assert (d.role, d.kind, d.grade, d.grade_year, d.dues_paid_through) == (
        "理事单位",
        "基金会",
        "5A",
        2022,
        2026,
    )
    summary = report.summary()
    for line, reason in EXPECTED_REJECTED:
        assert f"第 {line} 行：{reason}" in summary


async def test_reimport_is_idempotent_and_changes_are_history(members_env, tmp_path):
    path = _write(tmp_path, "utf-8")
    await members_env.import_file(path)
    async with members_env.db() as session:
        version = await registry_version(session)

    again = await members_env.import_file(path)
    assert (len(again.added), len(again.updated), again.unchanged) == (0, 0, 2)
    async with members_env.db() as session:
        assert await session.scalar(select(func.count()).select_from(MemberHistory)) == 0
        assert await registry_version(session) == version  # nothing changed: other processes keep their index

    members_env.clock.advance(86400)
    changed = [
        HEADER,
        row("浙江省婚姻家庭协会会", GOOD_A, "常务副会长单位", grade="5A", grade_year="2024", dues="2026"),
    ]
    report = await members_env.import_file(write_csv(tmp_path / "members2.csv", changed))
    assert [c.credit_code for c in report.updated] == [GOOD_A]
    assert report.updated[0].fields == {
        "name": ("浙江省婚姻家庭协会", "浙江省婚姻家庭协会会"),
        "role": ("副会长单位", "常务副会长单位"),
        "grade": ("4A", "5A"),
        "grade_year": (2021, 2024),
        "dues_paid_through": (2025, 2026),
    }
    async with members_env.db() as session:
        history = list(await session.scalars(select(MemberHistory).order_by(MemberHistory.field)))
        assert await registry_version(session) == version + 1
    assert [(h.field, h.old_value, h.new_value, h.source) for h in history] == [
        ("dues_paid_through", "2025", "2026", "import members2.csv"),
        ("grade", "4A", "5A", "import members2.csv"),
        ("grade_year", "2021", "2024", "import members2.csv"),
        ("name", "浙江省婚姻家庭协会", "浙江省婚姻家庭协会会", "import members2.csv"),
        ("role", "副会长单位", "常务副会长单位", "import members2.csv"),
    ]
    assert all(h.changed_at == members_env.clock.now() for h in history)
    members = await _members(members_env)
    assert set(members) == {GOOD_A, GOOD_D}  # a unit missing from a file is kept


async def test_dry_run_reports_and_writes_nothing(members_env, tmp_path):
    report = await members_env.import_file(_write(tmp_path, "gbk"), dry_run=True)
    assert len(report.added) == 2 and len(report.rejected) == 5
    assert "将新增 2 家" in report.summary() and "试运行" in report.summary()
    assert await _members(members_env) == {}


async def test_retire_and_rejoin_are_history(members_env, tmp_path):
    path = _write(tmp_path, "utf-8")
    await members_env.import_file(path)
    member = await retire(members_env.db, GOOD_A.lower(), members_env.clock.now())
    assert member is not None and member.retired
    assert await retire(members_env.db, code(99), members_env.clock.now()) is None
    report = await members_env.import_file(path)
    assert report.updated[0].fields == {"retired": (True, False)}
    async with members_env.db() as session:
        fields = [h.field for h in await session.scalars(select(MemberHistory).order_by(MemberHistory.id))]
    assert fields == ["retired", "retired"]
    assert not (await _members(members_env))[GOOD_A].retired


async def test_headers_variants_english_aliases_and_value_spellings(members_env, tmp_path):
    rows = [
        [
            "Name",
            "USCC",
            "Type",
            "Role",
            "Joined",
            "Grade",
            "Grade Year",
            "Dues",
            "Region",
            "Contact",
            "Phone",
        ],
        [
            "浙江省社会工作者协会",
            code(7),
            "社团",
            "vice president",
            "2019年5月",
            "四A",
            "2020",
            "2025年",
            "浙江",
            "李强",
            "13800138000",
        ],
        [
            "杭州市上城区邻里互助服务中心",
            code(8, "社会服务机构"),
            "",
            "会员",
            "2021/3/9",
            "无",
            "",
            "",
            "杭州市上城区",
            "",
            "",
        ],
    ]
    report = await members_env.import_file(write_csv(tmp_path / "en.csv", rows))
    assert report.ok, report.summary()
    members = await _members(members_env)
    first, second = members[code(7)], members[code(8, "社会服务机构")]
    assert (first.kind, first.role, first.grade, first.joined_on.isoformat(), first.dues_paid_through) == (
        "社会团体",
        "副会长单位",
        "4A",
        "2019-05-01",
        2025,
    )
    # No kind given: the credit code's type digit (2 = social service agency) says it.
    assert (second.kind, second.role, second.grade, second.dues_paid_through) == (
        "社会服务机构",
        "会员单位",
        None,
        None,
    )


async def test_values_that_make_no_sense_are_rejected(members_env, tmp_path):
    rows = [
        HEADER,
        row("浙江省甲协会", code(10), grade="6A"),
        row("浙江省乙协会", code(11), grade_year="2031"),
        row("浙江省丙协会", code(12), grade="", grade_year="2020"),
        row("浙江省丁协会", code(13), joined="2030-01-01"),
        row("浙江省戊协会", code(14), phone="call me"),
        row("浙江省己协会", "", kind="学会"),
    ]
    report = await members_env.import_file(write_csv(tmp_path / "bad.csv", rows))
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "未知的评估等级“6A”（应为 5A、4A、3A、2A、1A 或留空）"),
        (3, "评估年度 2031 年不合理"),
        (4, "有评估年度但缺少评估等级"),
        (5, "入会时间 2030-01-01 不合理"),
        (6, "联系电话“call me”格式不正确"),
        (7, "缺少统一社会信用代码；未知的单位类型“学会”（应为 社会团体、基金会、社会服务机构）"),
    ]
    assert report.added == []


def test_known_codes_and_generated_codes_validate():
    assert credit_code.is_valid("91350100M000100Y43")
    assert credit_code.is_valid(
        "９１３５０１００Ｍ０００１００Ｙ４３"
    )  # full-width, as pasted from a document
    assert not credit_code.is_valid("91350100M000100Y44")
    assert credit_code.problem("91350100M000100Y4") == "应为 18 位，实为 17 位"
    assert "I" in credit_code.problem("91350100M000100I43")
    for seed in range(200):
        assert credit_code.is_valid(code(seed, "基金会", "330106"))


def test_cli_import_exits_non_zero_when_a_row_was_rejected(tmp_path, capsys):
    db = tmp_path / "cli.db"
    config = tmp_path / "config.toml"
    config.write_text(
        '[wechat]\nappid = "wx1"\nsecret = "s"\ntoken = "token"\naccount_id = "gh_1"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{db}"\n',
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    bad = _write(tmp_path, "gbk")
    assert main(["members", "import", str(bad), "--dry-run", "--config", str(config)]) == 1
    good = write_csv(tmp_path / "good.csv", [HEADER, ROWS[1]])
    assert main(["members", "import", str(good), "--config", str(config)]) == 0
    assert main(["members", "show", GOOD_A, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "第 3 行" in out and "已新增 1 家" in out and "浙江省婚姻家庭协会" in out
    assert main(["members", "export", str(tmp_path / "out.xlsx"), "--config", str(config)]) == 0
    assert main(["members", "retire", GOOD_A, "--config", str(config)]) == 0
    assert main(["members", "import", str(tmp_path / "out.xlsx"), "--config", str(config)]) == 0  # round trip


# --- a mistyped code, an unknown role (issue 10, item 6) --------------------------------------------


def test_cli_a_name_under_another_code_is_reported_not_added(cli, tmp_path):
    first = write_csv(tmp_path / "first.csv", [HEADER, row("浙江省婚姻家庭协会", GOOD_A, "副会长单位")])
    assert cli("members", "import", str(first))[0] == 0
    typo = code(41)  # the same unit, its code mistyped
    again = write_csv(tmp_path / "again.csv", [
        HEADER,
        row("浙江省 婚姻家庭协会", typo, "副会长单位"),  # line 2: the name as the registry holds it
        row("杭州市甲协会", code(42)),  # line 3
        row("杭州市甲协会", code(43)),  # line 4: one name, two codes in one file
        row("宁波市乙协会", code(44)),  # line 5: fine
    ])
    for dry in (["--dry-run"], []):
        status, out, _ = cli("members", "import", str(again), *dry)
        assert status == 1
        assert (f"第 2 行：已有同名单位“浙江省婚姻家庭协会”（统一社会信用代码 {GOOD_A}），本行的代码可能填错了，未导入"
                in out)
        assert "第 3 行：单位名称“杭州市甲协会”在文件中以不同的统一社会信用代码出现（第 3、4 行）" in out
        assert "第 4 行：单位名称“杭州市甲协会”" in out
        assert "新增 1 家" in out and code(44) in out
    status, out, _ = cli("members", "list")
    assert out.count("婚姻家庭协会") == 1 and typo not in out and "宁波市乙协会" in out


def test_cli_roles_come_from_the_config_and_an_unknown_one_is_a_row_error(cli, tmp_path):
    file = write_csv(tmp_path / "roles.csv", [
        HEADER, row("浙江省甲协会", code(51), "常务理事单位"), row("浙江省乙协会", code(52), "理事")
    ])
    status, out, _ = cli("members", "import", str(file))
    assert status == 1  # not silently downgraded to 理事单位
    assert "第 2 行：未知的会员类别“常务理事单位”（应为 会长单位、常务副会长单位、副会长单位、理事单位、会员单位；" in out
    assert "[members] roles" in out and "新增 1 家" in out


def test_cli_a_federation_with_its_own_roles(cli, tmp_path):
    cli.extra = '[members]\nroles = ["会长单位", "常务理事单位", "理事单位", "会员单位"]\n'
    file = write_csv(tmp_path / "roles.csv", [
        HEADER, row("浙江省甲协会", code(51), "常务理事"), row("浙江省乙协会", code(52), "副会长单位")
    ])
    status, out, _ = cli("members", "import", str(file))
    assert status == 1 and "未知的会员类别“副会长单位”（应为 会长单位、常务理事单位、理事单位、会员单位；" in out
    status, out, _ = cli("members", "show", code(51))
    assert status == 0 and "会员类别：常务理事单位" in out
