#!/usr/bin/env bash
# Mutation testing of the modules that guard the product, each against its related tests only (so a
# run fits two cores): for each module, mutmut 3 (pinned in bench/requirements-mutants.txt, in its
# own venv .venv-mutants) mutates a copy of the tree in a scratch folder, never the work tree, and
# bench/mutants_report.py prints mutants, killed, survived and each survivor's file:line.
#
#   bench/mutants.sh                 # every module, one after the other (slow: tens of minutes)
#   bench/mutants.sh dedupe states   # some of them
#   JOBS=1 bench/mutants.sh render   # mutmut's children (default 2)
#
# Survivors are killed by a test or written down with the reason in bench/mutants-equivalent.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${MUTANTS_VENV:-$ROOT/.venv-mutants}
JOBS=${JOBS:-2}
SCRATCH=${MUTANTS_SCRATCH:-${TMPDIR:-/tmp}/mutants-$(id -u)}

# name | files to mutate | their related tests
MODULES=(
  "protocol|wechat/protocol.py|tests/test_protocol_units.py tests/test_webhook_protocol_flat.py tests/test_webhook_protocol.py"
  "dedupe|bot/dedupe.py|tests/test_dedupe_units.py tests/test_dedupe_fifo.py tests/test_dedupe_bounds.py tests/test_webhook_retries.py"
  "dispatch|bot/dispatch.py core/eager.py|tests/test_core_eager.py tests/test_dispatch_units.py tests/test_dispatch_budget.py tests/test_dispatch_routing.py tests/test_webhook_dispatch.py"
  "states|scheduler/states.py|tests/test_scheduler_states.py"
  "pipeline|scheduler/pipeline.py|tests/test_pipeline_units.py tests/test_pipeline_draft_units.py tests/test_pipeline_submit_units.py tests/test_scheduler_pipeline.py tests/test_scheduler_states.py tests/test_scheduler_editors.py"
  "render|store/content/render.py|tests/test_render_units.py tests/test_content_render.py"
  "members|store/members/table.py store/members/checks.py store/members/credit_code.py|tests/test_members_import.py tests/test_members_columns.py tests/test_members_checks_units.py tests/test_members_rows_units.py"
  "messagelog|bot/messagelog.py|tests/test_messagelog_units.py tests/test_messagelog_writer.py"
  "console-auth|console/security.py|tests/test_console_security_units.py tests/test_console_security_middleware.py"
  "routing|bot/router.py core/refresh.py bot/follower_rows.py|tests/test_router_order.py tests/test_router_matchers.py tests/test_refresh_units.py tests/test_follower_rows_writes.py tests/test_dispatch_routing.py tests/test_webhook_followers_reads.py"
)

if [[ ! -x $VENV/bin/mutmut ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet -r bench/requirements-mutants.txt
fi

wanted=("$@")
summary=()
for spec in "${MODULES[@]}"; do
  IFS='|' read -r name sources tests <<<"$spec"
  if ((${#wanted[@]})) && [[ " ${wanted[*]} " != *" $name "* ]]; then continue; fi
  existing=()
  for t in $tests; do [[ -e $t ]] && existing+=("$t"); done
  dir=$SCRATCH/$name
  rm -rf "$dir" && mkdir -p "$dir"
  # The tree as it is now (tracked and new files), without venvs, data or caches.
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$dir" 2>/dev/null || true
  toml_list() { printf '"%s", ' "$@" | sed 's/, $//'; }
  # shellcheck disable=SC2086
  cat >>"$dir/pyproject.toml" <<TOML

[tool.mutmut]
source_paths = [$(toml_list $sources)]
also_copy = ["core", "wechat", "store", "bot", "handlers", "scheduler", "cli", "sandbox", "console", "ops", "app.py", "main.py", "config.toml", "tests"]
pytest_add_cli_args_test_selection = [$(toml_list "${existing[@]}")]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]
TOML
  echo "== $name: $sources against ${existing[*]}" >&2
  (cd "$dir" && nice "$VENV/bin/mutmut" run --max-children "$JOBS" >"$dir/run.log" 2>&1) || echo "mutmut run failed: see $dir/run.log" >&2
  # shellcheck disable=SC2086
  summary+=("$("$VENV/bin/python" bench/mutants_report.py "$dir" "$name" $sources)")
done

echo
echo "| module | mutants | killed | timeout | survived | other | caught % |"
echo "|---|---|---|---|---|---|---|"
for row in "${summary[@]}"; do echo "$row"; done
