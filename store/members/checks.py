"""Reading the registry file's cells that the figures need (store/members/table.py calls these):
参评资格 (是/否), 参评次数, the region (store/members/regions.py), and what the row's dates and years
say together. Each raises ValueError with the reason in Chinese for the import report."""

from __future__ import annotations

import re

from store.members import regions, texts

YES = {"是", "符合", "具备", "有", "有资格", "可参评", "y", "yes", "true", "1", "√", "✓"}
NO = {"否", "不符合", "不具备", "无", "无资格", "不可参评", "n", "no", "false", "0", "×", "✗"}
MAX_EVALUATIONS = 30  # one every five years since 1949 is fewer
MAX_REGION = 100


def flag(text: str) -> bool | None:
    """参评资格: True for 是, False for 否, None when the cell is empty."""
    t = text.strip().lower()
    if not t:
        return None
    if t in YES:
        return True
    if t in NO:
        return False
    raise ValueError(texts.bad_flag(text))


def count(text: str) -> int | None:
    """参评次数: a whole number (3, 3次), None when the cell is empty."""
    if not text:
        return None
    found = re.fullmatch(r"(\d{1,3})\s*次?", text)
    if not found or int(found.group(1)) > MAX_EVALUATIONS:
        raise ValueError(texts.bad_count(text))
    return int(found.group(1))


def region(text: str) -> str:
    """The region as stored (spaces and separators removed), checked to be a city optionally
    followed by a county, or a province alone."""
    cleaned = regions.clean(text)
    try:
        regions.parse(cleaned)
    except ValueError:
        raise ValueError(texts.bad_region(text)) from None
    if len(cleaned) > MAX_REGION:
        raise ValueError(texts.bad_region(text))
    return cleaned


def inconsistencies(values: dict) -> list[str]:
    """What the row's values contradict each other in (each parsed already)."""
    problems = []
    registered, joined = values.get("registered_on"), values.get("joined_on")
    if registered and joined and joined.year < registered.year:
        problems.append(texts.JOINED_BEFORE_REGISTERED)
    if registered and values.get("grade_year") and values["grade_year"] < registered.year:
        problems.append(texts.GRADED_BEFORE_REGISTERED)
    if values.get("grade") and values.get("evaluations") == 0:
        problems.append(texts.GRADE_WITHOUT_EVALUATION)
    return problems
