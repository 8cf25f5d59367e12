"""Extraction bench: score an extractor on the real-page corpus (tests/corpus/realpages) per field.

    .venv/bin/python bench/extract.py                  # ours
    .venv-bench/bin/python bench/extract.py --anchors  # ours, trafilatura and GNE on the same pages
    .venv/bin/python bench/extract.py --only gne_stcn_finance.html -v   # one page, every miss shown

The anchors are installed only for the bench (bench/requirements-extract.txt), never for the product:
    python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements.txt \
        -r bench/requirements-extract.txt

Fields (truth.json; see the corpus README for how each is compared):
  articles: kind, title, date, 来源 (where shown), author (where shown), body (every truth sentence),
            no chrome (none of the chrome strings in the body), and "all three" = title+body+no chrome;
  listings: kind, links recall and precision (over the truth links and the known non-links), the dates
            the listing shows for its links, next page.
Each figure is "right/scored". `--set` picks the given pages, the added ones, or the held-out part of
the added ones (pages marked "heldout": true, kept out of development to check the rules generalise).
Every page is given bytes and, where truth.json says so, the charset an HTTP header would carry; the
anchors get the page decoded by our charset rules (they are compared on extraction, not decoding).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "realpages"
ARTICLE_FIELDS = ("kind", "title", "date", "source", "author", "body", "no_chrome", "all3")
LISTING_FIELDS = ("kind", "links_recall", "links_precision", "link_dates", "next")
_LABEL = re.compile(
    r"^([□■●]|来\s*源\s*于?|信息来源|文章来源|稿件来源|出处|作\s*者|撰\s*稿|撰稿人|采写|通讯员|文\s*/?|"
    r"[^，。:：\s]{0,12}?记\s*者|图\s*/\s*文)\s*[:：︱|/]?\s*"
)
_BRACKETS = re.compile(r"[《》【】\[\]（）()]")


@dataclass
class Prediction:
    kind: str = "article"
    title: str = ""
    date: date | None = None
    source: str = ""
    author: str = ""
    body: str = ""
    links: list[tuple[str, date | None]] = field(default_factory=list)
    next_url: str | None = None
    error: str = ""


def load(corpus: Path = CORPUS) -> list[dict]:
    pages = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))["pages"]
    for p in pages:
        p["bytes"] = (corpus / "pages" / p["file"]).read_bytes()
    return pages


def pick(pages: list[dict], which: str) -> list[dict]:
    if which == "given":
        return [p for p in pages if not p.get("added")]
    if which == "added":
        return [p for p in pages if p.get("added")]
    if which == "heldout":
        return [p for p in pages if p.get("heldout")]
    if which == "dev":
        return [p for p in pages if not p.get("heldout")]
    return pages


# --- comparing -----------------------------------------------------------------------------------------


def squash(text: str) -> str:
    return "".join(text.split())


def norm_name(text: str) -> str:
    text = squash(text or "")
    for _ in range(2):
        text = _LABEL.sub("", text)
    return _BRACKETS.sub("", text)


def score_page(truth: dict, pred: Prediction) -> dict[str, bool | float | None]:
    """Per field: True/False, a ratio for link recall/precision, or None where the field is not scored."""
    out: dict[str, bool | float | None] = {"kind": pred.kind == truth["kind"]}
    if truth["kind"] == "listing":
        return out | _score_listing(truth, pred)
    titles = [truth["title"], *truth.get("title_alt", [])]
    out["title"] = squash(pred.title) in {squash(t) for t in titles}
    dates = [d for d in [truth["date"], *truth.get("date_alt", [])] if d]
    out["date"] = (pred.date is not None and pred.date.isoformat() in dates) if dates else pred.date is None
    for key in ("source", "author"):
        if truth.get(key) is None:
            out[key] = None
        else:
            allowed = {norm_name(v) for v in [truth[key], *truth.get(f"{key}_alt", [])]}
            out[key] = norm_name(pred.__dict__[key]) in allowed
    body = squash(pred.body)
    out["body"] = all(squash(s) in body for s in truth["sentences"])
    out["no_chrome"] = pred.kind == "article" and not any(squash(c) in body for c in truth["chrome"])
    out["all3"] = bool(out["title"] and out["body"] and out["no_chrome"])
    return out


def _score_listing(truth: dict, pred: Prediction) -> dict[str, bool | float | None]:
    got = {u: d for u, d in pred.links}
    want = {u: d for u, d in truth["links"]}
    recall = sum(u in got for u in want) / len(want)
    wrong = sum(u in got for u in truth.get("not_links", []))
    hits = sum(u in got for u in want)
    precision = hits / (hits + wrong) if hits + wrong else 0.0
    dated = [u for u, d in truth["links"] if d]
    link_dates = (
        all(got.get(u) is not None and got[u].isoformat() == want[u] for u in dated if u in got) and hits > 0
        if dated
        else None
    )
    return {
        "links_recall": recall,
        "links_precision": precision,
        "link_dates": link_dates,
        "next": pred.kind == "listing" and pred.next_url == truth.get("next_url"),
    }


# --- extractors ------------------------------------------------------------------------------------------


def ours(page: dict) -> Prediction:
    from store.content.extract import Extracted, ExtractError, parse_page

    try:
        x = parse_page(page["bytes"], page["url"], None, page.get("encoding"))
    except ExtractError as e:
        return Prediction(error=str(e))
    if isinstance(x, Extracted):
        return Prediction("article", x.title, x.published_at, x.source_name, x.author, x.body_text)
    return Prediction("listing", links=list(x.items), next_url=x.next_url)


def _decoded(page: dict) -> str:
    from store.content.charset import decode_html

    return decode_html(page["bytes"], page.get("encoding"))


def trafilatura_pred(page: dict) -> Prediction:
    import trafilatura

    result = trafilatura.bare_extraction(_decoded(page), url=page["url"], with_metadata=True)
    if not result:
        return Prediction(error="nothing extracted")
    doc = result if isinstance(result, dict) else result.as_dict()
    when = None
    if doc.get("date"):
        try:
            when = date.fromisoformat(doc["date"][:10])
        except ValueError:
            when = None
    return Prediction(
        "article", doc.get("title") or "", when, doc.get("sitename") or "", doc.get("author") or "",
        doc.get("text") or "",
    )  # fmt: skip


def gne_pred(page: dict) -> Prediction:
    from gne import GeneralNewsExtractor

    from store.content.metadata import parse_date

    try:
        doc = GeneralNewsExtractor().extract(_decoded(page))
    except Exception as e:  # GNE raises on pages it cannot read: a miss, not a crash of the bench
        return Prediction(error=f"{type(e).__name__}: {e}")
    return Prediction(
        "article", doc.get("title") or "", parse_date(doc.get("publish_time") or ""), "",
        doc.get("author") or "", doc.get("content") or "",
    )  # fmt: skip


def htmldate_pred(page: dict) -> Prediction:
    """htmldate alone (trafilatura's date finder): scored on dates only."""
    from htmldate import find_date

    found = find_date(_decoded(page), url=page["url"], original_date=True, outputformat="%Y-%m-%d")
    return Prediction("article", date=date.fromisoformat(found) if found else None)


EXTRACTORS = {"ours": ours, "trafilatura": trafilatura_pred, "GNE": gne_pred, "htmldate": htmldate_pred}


def charsets(pages: list[dict]) -> str:
    """How many pages decode so that every truth sentence (and title) is in the text: our rules
    (charset.py) against charset-normalizer's best guess alone."""
    from bs4 import BeautifulSoup
    from charset_normalizer import from_bytes

    from store.content.charset import decode_html

    def readable(html: str, p: dict) -> bool:
        text = squash(BeautifulSoup(html, "lxml").get_text())
        return all(squash(w) in text for w in p.get("sentences") or [])

    ours_ok = sum(readable(decode_html(p["bytes"], p.get("encoding")), p) for p in pages)
    theirs_ok = 0
    for p in pages:
        best = from_bytes(p["bytes"]).best()
        theirs_ok += bool(best) and readable(str(best), p)
    return f"charset: ours {ours_ok}/{len(pages)} pages read right, charset-normalizer alone {theirs_ok}/{len(pages)}"


# --- the table -----------------------------------------------------------------------------------------------


def tally(pages: list[dict], extractor) -> tuple[dict[str, list[float]], dict[str, dict], float]:
    per_field: dict[str, list[float]] = {}
    per_page: dict[str, dict] = {}
    t0 = time.perf_counter()
    for p in pages:
        pred = extractor(p)
        scores = score_page(p, pred)
        per_page[p["file"]] = {"scores": scores, "pred": pred}
        for k, v in scores.items():
            if v is not None:
                per_field.setdefault(f"{p['kind']}:{k}", []).append(float(v))
    return per_field, per_page, time.perf_counter() - t0


def ratio(values: list[float] | None) -> str:
    if not values:
        return "—"
    if all(v in (0.0, 1.0) for v in values):
        return f"{int(sum(values))}/{len(values)} ({100 * sum(values) / len(values):.0f}%)"
    return f"{100 * sum(values) / len(values):.0f}% of {len(values)}"


def table(results: dict[str, dict[str, list[float]]]) -> str:
    names = list(results)
    rows = [("field", *names)]
    for kind, fields in (("article", ARTICLE_FIELDS), ("listing", LISTING_FIELDS)):
        for f in fields:
            key = f"{kind}:{f}"
            if any(key in r for r in results.values()):
                rows.append((f"{kind} {f}", *(ratio(results[n].get(key)) for n in names)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--anchors", action="store_true", help="also score trafilatura, GNE and htmldate")
    parser.add_argument("--set", choices=("all", "given", "added", "heldout", "dev"), default="all")
    parser.add_argument("--only", help="one page (its file name)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every miss")
    args = parser.parse_args()
    pages = pick(load(), args.set)
    if args.only:
        pages = [p for p in pages if p["file"] == args.only]
    names = ["ours", "trafilatura", "GNE", "htmldate"] if args.anchors else ["ours"]
    results, details = {}, {}
    n_articles = sum(p["kind"] == "article" for p in pages)
    print(f"{len(pages)} pages ({n_articles} articles, {len(pages) - n_articles} listings), set {args.set}")
    for name in names:
        results[name], details[name], elapsed = tally(pages, EXTRACTORS[name])
        print(f"  {name}: {elapsed:.1f} s ({len(pages) / elapsed:.0f} pages/s)")
    print(table(results))
    if args.anchors:
        print(charsets(pages))
    if args.verbose:
        for name in names:
            for file, d in details[name].items():
                misses = [k for k, v in d["scores"].items() if v is not None and v is not True and v != 1.0]
                if misses:
                    pred = d["pred"]
                    print(f"{name} {file}: {', '.join(misses)}  {pred.error}")
                    print(f"    got title={pred.title!r} date={pred.date} source={pred.source!r} "
                          f"author={pred.author!r} kind={pred.kind} next={pred.next_url}")  # fmt: skip


if __name__ == "__main__":
    main()
