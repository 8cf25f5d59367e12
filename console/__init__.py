"""The editors' console: server-rendered Chinese pages (aiohttp-jinja2, autoescaped; one stylesheet,
no inline script, no build step) for the secretariat's editors, approvers and admins. It owns the
pages, the login and sessions, and the CSRF and security checks; every action calls the same
operations as the CLI (scheduler.editing, store.*), and every change goes into the audit log.
Mounted by app.create_app at `[console] path` (default /console) beside the webhook, or on its own
`[console] host/port`.

The API for page authors (everything is in console/web.py):

1. Declare a route with its least role. Put the module in console/pages/ and list it in
   console.app.PAGE_MODULES:

       from console.web import page, render, form, audit, redirect, services, editor

       @page("/articles", role="editor", name="articles")            # GET by default
       async def articles(request):
           rows = ...                                                  # services(request).db
           return await render(request, "articles.html", rows=rows)

       @page("/articles/{id}", role="editor", method="POST", name="article_save")
       async def save(request): ...

   role is "editor" < "approver" < "admin" (each includes the ones before it; store/editors.RANK),
   or None for a public page (only the login). The auth middleware checks it before the handler
   runs: no session → 303 to the login page (?next= for GET); too low a role → 403. The route
   table is console.web.ROUTES; tests/test_console_security.py walks it, so a new page is covered
   by the session, role and CSRF tests without writing any. Nav entries are console/texts.NAV
   (label, route name, least role): a name no page declares yet shows greyed out, so naming your
   route as listed there ("articles", "members", "keywords", "menu", "messages") lights it up.

2. Render with the base template: `await render(request, "x.html", **data)`; the template starts
   `{% extends "base.html" %}` and fills `{% block title %}` and `{% block content %}`. Every
   template sees: `me` (the account: name, display_name, role), `url(name, **parts)`,
   `csrf_field` (the hidden input), `csrf_token`, `show_time(dt)` (the configured zone),
   `tz_note`, `t` (console/texts.py), `role_name`, `flashes`. Styles go in console/static/console.css
   (existing classes: card, stack, row, grid, table-wrap, badge ok|bad|warn|info, flash, tabs,
   filters, primary, danger). No inline <script> or style="" (the CSP forbids them).

3. CSRF: every form with method="post" must contain `{{ csrf_field }}`. The middleware checks
   the token of every non-GET request (form field `_csrf` or header X-CSRF-Token) before the
   handler runs and answers 403 otherwise: a handler does nothing for it. `await form(request)`
   gives the posted string fields (without `_csrf`); `await request.post()` for files.

4. Record every change: `await audit(request, "article_edit", target_type="article", target_id=7,
   summary="改标题", before={"title": old}, after={"title": new})`: who (the signed-in editor),
   when, from where (the client address) are added. Add the action's Chinese name to
   console/texts.ACTIONS. Keys naming a secret (password, token, key, secret, hash…) are dropped
   by store/audit.py whatever is passed. The CLI records with
   `store.audit.record(db, clock, store.audit.cli_actor(args.as_name), action, ...)`.

5. Answer: `raise await redirect(request, "articles", "已保存")` (303 with a message shown once;
   kind "error" or "warn" for others), `editor(request)` for the account, `services(request)` for
   the process's Services.
"""
