"""Reading what followers said and were answered, for editors: the message log filtered and paged,
one follower's conversation, the follower list (follow time and source, bound units), a follower's
profile as WeChat reports it, and what erasing a follower would remove. Writing the log and erasing
are the webhook's (bot/messagelog.py)."""
