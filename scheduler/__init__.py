"""The push pipeline: planning, auto-drafting and the persisted state machine that drafts, previews,
approves and publishes or broadcasts pushes exactly once, with APScheduler as the clock."""
