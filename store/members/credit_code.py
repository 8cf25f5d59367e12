"""Unified social credit codes (统一社会信用代码, GB 32100-2015): normalising, validating, generating.

Layout of the 18 characters: registration authority (1), organisation type (1), administrative
division (6 digits), organisation code (9, GB 11714), check character (1). The character set is the
digits and the capital letters except I, O, Z, S and V; character i (0-based) weighs 3**i mod 31 and
the check character is 31 - (weighted sum mod 31), 31 written as 0.
"""

from __future__ import annotations

import random
import unicodedata

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = [
    pow(3, i, 31) for i in range(17)
]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28

# Registration authority 5 = civil affairs; the type digit says what kind of social organisation it is.
KIND_DIGIT = {"社会团体": "1", "社会服务机构": "2", "基金会": "3"}
KIND_OF_DIGIT = {digit: kind for kind, digit in KIND_DIGIT.items()}


def normalize(code: str) -> str:
    """Full-width to half-width, no spaces, upper case: what people paste from documents."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` (already normalised) is not a valid credit code, or None when it is."""
    if len(code) != 18:
        return f"应为 18 位，实为 {len(code)} 位"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"含有不允许的字符 {''.join(bad)}（不使用 I、O、Z、S、V）"
    if not code[2:8].isdigit():
        return "第 3–8 位应为行政区划代码（数字）"
    if check_character(code[:17]) != code[17]:
        return "校验位不正确"
    return None


def is_valid(code: str) -> bool:
    return problem(normalize(code)) is None


def _org_code(rng: random.Random) -> str:
    """Nine characters whose last is the GB 11714 check digit, as real organisation codes have."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    digit = 11 - total % 11
    return body + ("X" if digit == 10 else "0" if digit == 11 else str(digit))


def generate(rng: random.Random, kind: str = "社会团体", division: str = "330000") -> str:
    """A well-formed code of a civil-affairs registered organisation, for demo and test data only."""
    first17 = "5" + KIND_DIGIT.get(kind, "9") + division + _org_code(rng)
    return first17 + check_character(first17)
