"""The account's reading figures (数据统计): keeping what WeChat reported (records.py), which queries are
done (records.py), and the yearly report over them (report.py, its words in texts.py, its tables in
tables.py). Fetching them is the scheduler's (scheduler/reading.py)."""
