"""The layers hold: every product module's run-time imports (an import under `if TYPE_CHECKING:` is
for type hints and counts as none) are checked against the allowed-imports table below, so an arrow
the table does not allow fails here instead of eroding the layering silently. The table also covers
the parts still to come (the editors' console), and nothing below the top may import the console,
the CLI or the composition root. Beside it, what else holds the house together: no product file
over 400 lines, and no comment citing a document outside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_PRODUCT = {"tests", "bench", "data"}

# Who may import whom, by module prefix: "bot" is the package and everything in it, "bot.router" that
# one module. A package may always import its own modules. Read as: the key imports only these.
ALLOWED: dict[str, set[str]] = {
    # The base: the settings schema, the clock, the services container, the shared-state interface.
    "core": set(),
    # WeChat itself: protocol, replies, limits, errors, the API client. No server, no database.
    "wechat": {"core"},
    # Data and the domain functions over it. wechat.limits is a module of numbers (title 32, digest
    # 128) that the content rules obey; it imports nothing. wechat.menu: the menu's limits, checked
    # before a saved version is synced (it imports only core and wechat.limits; the API is services').
    "store": {"core", "wechat.limits", "wechat.menu"},
    # The follower webhook.
    "bot": {"core", "wechat", "store"},
    # What answers each message: the rule vocabulary and the context, never the scheduler.
    "handlers": {"core", "wechat", "store", "bot.router", "bot.context", "bot.texts"},
    # Pushes: its job-finish events are a router of its own; editor notices go out through the outbox.
    "scheduler": {"core", "wechat", "store", "bot.router", "bot.context", "bot.outbox", "bot.messagelog"},
    # The editors' console: the data, previews through the API client, the real routing for its
    # "try a message" box, the message log, and the scheduler's editing operations; the push states
    # (its tabs map them), the scheduler's words (shared with the CLI) and its open notices (the
    # dashboard's failure inbox); wechat.limits for the composer's warnings; the menu's checks and
    # its sync (wechat.menu).
    "console": {
        "core", "store", "wechat.errors", "wechat.api", "wechat.replies", "wechat.limits", "wechat.menu",
        "bot.router", "bot.dispatch", "bot.trial", "bot.context", "bot.messagelog",
        "scheduler.editing", "scheduler.planning", "scheduler.report", "scheduler.previews",
        "ops.summary",
        "scheduler.states", "scheduler.texts", "scheduler.notify", "scheduler.review",
    },
    # Operations: metrics scraped, health checked, figures for the dashboard, backups. Reads the data
    # and the token; answers on a site of its own, so it knows no webhook.
    "ops": {"core", "wechat", "store"},
    # The local WeChat platform: an independent implementation, so nothing of the product but the base.
    "sandbox": {"core"},
    # The faces and the composition root may import anything below them.
    "cli": {"core", "wechat", "store", "bot", "handlers", "scheduler", "sandbox", "console", "ops", "app"},
    "app": {"core", "wechat", "store", "bot", "handlers", "scheduler", "console", "ops"},
    "main": {"core", "cli"},
}
PROJECT = set(ALLOWED)

# Libraries a layer must not use: the base and WeChat know no database and no server.
FORBIDDEN_LIBRARIES = {
    "core": {"sqlalchemy", "aiohttp", "redis", "wechatpy", "apscheduler"},
    "wechat": {"sqlalchemy", "aiohttp.web", "redis", "apscheduler"},
}

MAX_LINES = 400


def product_files() -> list[Path]:
    # Hidden folders are never the product (.venv-bench, .venv-mutants: the benches' own installs).
    return sorted(p for p in ROOT.rglob("*.py")
                  if not NOT_PRODUCT & set(parts := p.relative_to(ROOT).parts) and not parts[0].startswith("."))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import that runs (at module level or in a function), except
    those under `if TYPE_CHECKING:`. `from a.b import c` gives a.b.c (c may be a module)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import keeps its dots: the check refuses it (the project imports absolutely).
            base = "." * node.level + (node.module or "")
            found.extend((node.lineno, f"{base}.{alias.name}".replace("..", ".", 1) if node.module else
                          base + alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    problems = []
    for path in product_files():
        module = module_name(path)
        package = module.split(".")[0]
        if package not in ALLOWED:
            problems.append(f"{module}: its package {package!r} is not in the allowed-imports table")
            continue
        for line, name in runtime_imports(path):
            target = name.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line}"
            if name.startswith("."):
                problems.append(f"{where}: relative import {name} (write it absolutely)")
            elif target in PROJECT:
                if target != package and not any(_within(name, p) for p in ALLOWED[package]):
                    problems.append(f"{where}: {package} may not import {name}")
            elif any(_within(name, lib) for lib in FORBIDDEN_LIBRARIES.get(package, ())):
                problems.append(f"{where}: {package} may not use {name}")
    return problems


def test_every_import_is_allowed_by_the_table():
    assert violations() == []


def test_the_check_reads_the_imports_that_run():
    """The reader itself: a lazy import in a function counts, one for type hints does not."""
    imports = {name for _, name in runtime_imports(ROOT / "core" / "services.py")}
    assert not any(_within(n, "bot") or _within(n, "store") for n in imports)  # all under TYPE_CHECKING
    lazy = {name for _, name in runtime_imports(ROOT / "cli" / "run.py")}
    assert "app.open_services" in lazy  # imported inside the function that runs the command


@pytest.mark.parametrize(
    ("module", "name", "allowed"),
    [
        ("store", "bot.followers", False),
        ("handlers", "scheduler.pipeline", False),
        ("handlers", "bot.router", True),
        ("bot", "handlers", False),
        ("sandbox", "wechat.protocol", False),
        ("scheduler", "console", False),
        ("console", "scheduler.editing", True),
        ("console", "scheduler.pipeline", False),
        ("core", "store.db", False),
    ],
)
def test_the_table_says_what_the_layers_are(module, name, allowed):
    assert any(_within(name, p) for p in ALLOWED[module]) is allowed


def test_nothing_below_imports_the_console_the_cli_or_the_root():
    below = {package: may & {"console", "cli", "app", "main"} for package, may in ALLOWED.items()
             if package not in ("cli", "app", "main")}
    assert below == dict.fromkeys(below, set())


def test_no_product_file_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in product_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_references_are_to_the_official_pages_not_to_files_outside_the_repository():
    outside = ("wechat-api.md", "shared/reference", "probes.md", "aesthetics.md", "house.md")
    cited = [f"{p.relative_to(ROOT)}:{n}" for p in product_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if any(o in line for o in outside)]
    assert cited == []


def test_the_settings_cap_drafts_at_the_platform_limit():
    """core imports nothing, so the settings state the 8 articles per draft themselves."""
    from core.config import SchedulerSettings
    from wechat.limits import DRAFT_ARTICLES

    field = SchedulerSettings.model_fields["compose_max_articles"]
    assert [m.le for m in field.metadata if hasattr(m, "le")] == [DRAFT_ARTICLES]


def test_the_readme_names_paths_that_exist():
    """Every repository path the README names (a `dir/`, a `dir/file` or a top-level file) exists,
    and its layout table lists every top-level package."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = {m for m in re.findall(r"`([A-Za-z0-9_.][\w.-]*(?:/[\w.*-]+)*/?)`", readme)
             if "/" in m or re.fullmatch(r"[\w-]+\.(py|toml|txt|in)", m)}
    # A path starts with a top-level entry of the repository (`cgi-bin/token` is an API endpoint, and
    # `api.py` in a package's row is that package's).
    roots = {p.name for p in ROOT.iterdir()} | {f"{p}/" for p in PROJECT} | set(PROJECT)
    paths = [m for m in named if m.split("/")[0] in roots or m.split("/")[0] + "/" in roots]
    assert [m for m in paths if not (ROOT / m).exists()] == []
    table = set(re.findall(r"^\| `([\w.]+/?)` \|", readme, re.M))
    packages = {p.name + "/" for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}
    assert packages <= table
