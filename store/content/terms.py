"""What an article is indexed under for search (search.py): pure CPU and light imports, so that an
import's parse workers (parsing.py) compute it without loading the database layer."""

from __future__ import annotations

import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"([{_CJK}]+)|([0-9A-Za-z]+)")
MAX_TERM = 32  # ArticleTerm.term's width; longer Latin words are indexed by their first 32 letters


def index_terms(text: str) -> set[str]:
    """What a text is indexed under: CJK unigrams and bigrams, lower-cased Latin/digit words."""
    out: set[str] = set()
    for m in _TOKEN.finditer(text):
        run, word = m.group(1), m.group(2)
        if run:
            out.update(run)
            out.update(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.add(word.lower()[:MAX_TERM])
    return out


def query_terms(part: str) -> set[str]:
    """What one query word must be indexed under: its bigrams (a single character: itself)."""
    out: set[str] = set()
    for m in _TOKEN.finditer(part):
        run, word = m.group(1), m.group(2)
        if run:
            out.update([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
        else:
            out.add(word.lower()[:MAX_TERM])
    return out


def article_terms(title: str, body_text: str) -> tuple[set[str], set[str]]:
    """(title terms, title-and-body terms): what an article is indexed under. Pure CPU; an import
    computes it in its parse workers (parsing.py), off the process that writes."""
    return index_terms(title), index_terms(title + "\n" + body_text)
