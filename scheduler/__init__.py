"""The push pipeline: planning, auto-drafting and the persisted state machine (states) that drafts,
previews, approves and publishes or broadcasts pushes exactly once, with APScheduler as the clock
(service). WeChat's job-finish events reach it through its own router (events); editors' operations
(editing) are what the CLI and the coming console call."""
