"""Demo member units for `make run`: made up for this project (realistic names, valid credit codes)."""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.members import credit_code
from store.members.importer import ImportReport, upsert
from store.members.table import MemberRow
from store.models.members import Member

if TYPE_CHECKING:
    from core.services import Services

# (name, kind, role, region, division code, grade, grade year, dues paid through, joined)
UNITS = [
    ("浙江省婚姻家庭协会", "社会团体", "副会长单位", "浙江省", "330000", "4A", 2021, 2026, "2015-03-18"),
    ("杭州市婚姻家庭协会", "社会团体", "理事单位", "杭州市", "330100", "3A", 2019, 2025, "2016-06-01"),
    ("宁波市婚姻家庭协会", "社会团体", "会员单位", "宁波市", "330200", None, None, 2025, "2018-09-12"),
    ("浙江省慈善联合总会", "社会团体", "会长单位", "浙江省", "330000", "5A", 2022, 2026, "2012-01-10"),
    ("浙江省银行业协会", "社会团体", "常务副会长单位", "浙江省", "330000", "5A", 2020, 2026, "2013-04-22"),
    ("浙江省青少年发展基金会", "基金会", "副会长单位", "浙江省", "330000", "4A", 2018, 2025, "2014-11-05"),
    ("浙江省老年体育协会", "社会团体", "理事单位", "浙江省", "330000", "3A", 2023, 2026, "2017-02-14"),
    (
        "浙江省社会工作者协会",
        "社会团体",
        "常务副会长单位",
        "浙江省",
        "330000",
        "4A",
        2022,
        2026,
        "2013-08-30",
    ),
    ("浙江省长江文化研究会", "社会团体", "会员单位", "浙江省", "330000", None, None, 2024, "2019-05-20"),
    (
        "杭州市西湖区阳光社会工作服务中心",
        "社会服务机构",
        "会员单位",
        "杭州市西湖区",
        "330106",
        "3A",
        2021,
        2026,
        "2020-07-01",
    ),
    (
        "杭州市上城区邻里互助服务中心",
        "社会服务机构",
        "会员单位",
        "杭州市上城区",
        "330102",
        None,
        None,
        2025,
        "2021-03-09",
    ),
    ("杭州市志愿者协会", "社会团体", "理事单位", "杭州市", "330100", "4A", 2020, 2026, "2014-12-03"),
    ("杭州市慈善总会", "社会团体", "副会长单位", "杭州市", "330100", "5A", 2021, 2026, "2012-05-15"),
    (
        "杭州市滨江区科技创新促进会",
        "社会团体",
        "会员单位",
        "杭州市滨江区",
        "330108",
        None,
        None,
        2026,
        "2022-04-18",
    ),
    ("宁波市老年人体育协会", "社会团体", "会员单位", "宁波市", "330200", "2A", 2017, 2023, "2016-10-10"),
    (
        "宁波市鄞州区春晖助学基金会",
        "基金会",
        "理事单位",
        "宁波市鄞州区",
        "330212",
        "4A",
        2022,
        2026,
        "2018-01-25",
    ),
    (
        "宁波市海曙区乐龄养老服务中心",
        "社会服务机构",
        "会员单位",
        "宁波市海曙区",
        "330203",
        None,
        None,
        2025,
        "2021-09-01",
    ),
    ("温州市民营企业协会", "社会团体", "理事单位", "温州市", "330300", "3A", 2020, 2025, "2015-07-07"),
    (
        "温州市鹿城区心桥心理咨询服务中心",
        "社会服务机构",
        "会员单位",
        "温州市鹿城区",
        "330302",
        None,
        None,
        2026,
        "2022-11-11",
    ),
    ("温州市慈善总会", "社会团体", "副会长单位", "温州市", "330300", "5A", 2023, 2026, "2012-09-18"),
    ("嘉兴市养老服务业协会", "社会团体", "会员单位", "嘉兴市", "330400", "3A", 2019, 2024, "2017-03-03"),
    (
        "嘉兴市南湖区红船志愿服务中心",
        "社会服务机构",
        "会员单位",
        "嘉兴市南湖区",
        "330402",
        "4A",
        2023,
        2026,
        "2020-06-30",
    ),
    ("湖州市志愿者协会", "社会团体", "理事单位", "湖州市", "330500", "4A", 2021, 2026, "2016-04-16"),
    (
        "湖州市吴兴区绿水青山环保服务中心",
        "社会服务机构",
        "会员单位",
        "湖州市吴兴区",
        "330502",
        None,
        None,
        2025,
        "2021-08-08",
    ),
    (
        "绍兴市越城区助老服务中心",
        "社会服务机构",
        "会员单位",
        "绍兴市越城区",
        "330602",
        "2A",
        2018,
        2024,
        "2019-12-12",
    ),
    ("绍兴市黄酒行业协会", "社会团体", "理事单位", "绍兴市", "330600", "4A", 2022, 2026, "2014-10-28"),
    (
        "金华市义乌市小商品行业协会",
        "社会团体",
        "副会长单位",
        "金华市义乌市",
        "330782",
        "5A",
        2021,
        2026,
        "2013-06-06",
    ),
    ("金华市儿童福利基金会", "基金会", "会员单位", "金华市", "330700", "3A", 2020, 2025, "2017-09-09"),
    ("衢州市家庭教育研究会", "社会团体", "会员单位", "衢州市", "330800", None, None, 2026, "2023-02-20"),
    ("舟山市海洋渔业协会", "社会团体", "理事单位", "舟山市", "330900", "3A", 2019, 2025, "2015-11-19"),
    ("台州市民间救援协会", "社会团体", "会员单位", "台州市", "331000", "4A", 2023, 2026, "2019-07-27"),
    ("丽水市山区共富发展基金会", "基金会", "会员单位", "丽水市", "331100", None, None, 2025, "2022-08-15"),
    ("浙江省会计学会", "社会团体", "理事单位", "浙江省", "330000", "4A", 2020, 2026, "2014-03-31"),
    (
        "浙江省长三角社会组织发展研究中心",
        "社会服务机构",
        "会员单位",
        "浙江省",
        "330000",
        None,
        None,
        2026,
        "2023-10-10",
    ),
]
# For the registry's figures: name → (registered on, evaluations taken, 参评资格 as the file states it;
# None where the demo file, like many real ones, leaves it to the two-years rule).
STANDING = {
    "浙江省婚姻家庭协会": ("2014-12-26", 2, None),
    "杭州市婚姻家庭协会": ("2009-05-12", 2, None),
    "宁波市婚姻家庭协会": ("2017-11-03", 0, None),
    "浙江省慈善联合总会": ("1995-06-20", 3, None),
    "浙江省银行业协会": ("2001-03-15", 3, None),
    "浙江省青少年发展基金会": ("1992-10-08", 2, None),
    "浙江省老年体育协会": ("1987-04-30", 2, None),
    "浙江省社会工作者协会": ("2008-07-18", 3, None),
    "浙江省长江文化研究会": ("2018-12-05", 0, None),
    "杭州市西湖区阳光社会工作服务中心": ("2016-04-11", 1, None),
    "杭州市上城区邻里互助服务中心": ("2020-09-23", 0, None),
    "杭州市志愿者协会": ("2003-12-01", 2, None),
    "杭州市慈善总会": ("1996-01-18", 3, None),
    "杭州市滨江区科技创新促进会": ("2021-10-15", 0, None),
    "宁波市老年人体育协会": ("1999-08-09", 1, None),
    "宁波市鄞州区春晖助学基金会": ("2012-06-28", 2, None),
    "宁波市海曙区乐龄养老服务中心": ("2021-05-17", 0, False),  # 年检基本合格: not this round
    "温州市民营企业协会": ("2005-02-22", 2, None),
    "温州市鹿城区心桥心理咨询服务中心": ("2022-06-06", 0, None),
    "温州市慈善总会": ("1994-11-11", 3, None),
    "嘉兴市养老服务业协会": ("2013-03-19", 1, None),
    "嘉兴市南湖区红船志愿服务中心": ("2018-05-04", 1, None),
    "湖州市志愿者协会": ("2006-09-27", 2, None),
    "湖州市吴兴区绿水青山环保服务中心": ("2020-12-30", 0, True),
    "绍兴市越城区助老服务中心": ("2015-08-14", 1, None),
    "绍兴市黄酒行业协会": ("2002-04-16", 3, None),
    "金华市义乌市小商品行业协会": ("1998-10-20", 3, None),
    "金华市儿童福利基金会": ("2011-07-01", 2, None),
    "衢州市家庭教育研究会": ("2022-09-09", 0, None),
    "舟山市海洋渔业协会": ("2007-01-25", 2, None),
    "台州市民间救援协会": ("2016-03-08", 1, None),
    "丽水市山区共富发展基金会": ("2022-03-01", 0, None),
    "浙江省会计学会": ("1985-12-12", 3, None),
    "浙江省长三角社会组织发展研究中心": ("2023-06-16", 0, None),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ["芳", "伟", "敏", "静", "磊", "洋", "婷", "军", "丽", "强", "燕", "涛", "娟", "杰", "霞"]
AREA_CODES = {
    "3300": "0571",
    "3301": "0571",
    "3302": "0574",
    "3303": "0577",
    "3304": "0573",
    "3305": "0572",
    "3306": "0575",
    "3307": "0579",
    "3308": "0570",
    "3309": "0580",
    "3310": "0576",
    "3311": "0578",
}


def demo_rows() -> list[MemberRow]:
    rng = random.Random(20260105)  # fixed: the same codes and contacts on every run
    rows = []
    for line, (name, kind, role, region, division, grade, grade_year, dues, joined) in enumerate(
        UNITS, start=1
    ):
        phone = f"{AREA_CODES[division[:4]]}-8{rng.randrange(1000000, 9999999)}"
        registered, evaluations, eligible = STANDING[name]
        rows.append(
            MemberRow(
                line=line,
                name=name,
                credit_code=credit_code.generate(rng, kind, division),
                kind=kind,
                role=role,
                joined_on=date.fromisoformat(joined),
                grade=grade,
                grade_year=grade_year,
                dues_paid_through=dues,
                region=region,
                contact_person=rng.choice(SURNAMES) + rng.choice(GIVEN),
                contact_phone=phone,
                registered_on=date.fromisoformat(registered),
                eligible=eligible,
                evaluations=evaluations,
            )
        )
    return rows


async def demo_complete(session: AsyncSession) -> bool:
    """Every demo unit is in the registry."""
    codes = [r.credit_code for r in demo_rows()]
    found = await session.scalar(select(func.count()).select_from(Member).where(Member.credit_code.in_(codes)))
    return found == len(codes)


async def load_demo(services: Services) -> int:
    """Add the demo units not in the registry yet; a unit that exists is never changed (its grade or
    dues may be real). Returns how many were added. (store/demo.py decides whether to call this.)"""
    rows = demo_rows()
    async with services.db() as session:
        known = set(
            await session.scalars(
                select(Member.credit_code).where(Member.credit_code.in_([r.credit_code for r in rows]))
            )
        )
    report = ImportReport(path="demo")
    await upsert(services.db, [r for r in rows if r.credit_code not in known], services.clock.now(), "demo", report)
    return len(report.added)
