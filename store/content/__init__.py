"""The content store: importing the federation's website news (importer, with fetch, parsing, media
and writer; the page extractor in extract, with charset, dom, title, metadata, listing and clean),
keeping it searchable in Chinese (search), making it WeChat-safe (render), the editors' rules for
articles (articles) and the demo articles (demo). The tables are in store/models/content.py."""
