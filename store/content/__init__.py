"""The content store: importing the federation's website news (extract, fetch, importer), keeping
it searchable in Chinese (search), making it WeChat-safe (render, uploads), the `news` commands
(cli) and the demo articles (demo). The tables are in store/models/content.py."""
