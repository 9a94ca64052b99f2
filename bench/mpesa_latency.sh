#!/usr/bin/env bash
# Measure callback → "paid" on the pay panel with real processes: runserver (8601), the Huey consumer
# (SQLite queue) and the Daraja simulator (8602), on a throw-away SQLite database in var/.
#   IDLE=20 bash bench/mpesa_latency.sh [runs] [extra run_huey options, e.g. -m 0.5]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
[ -x "$PY" ] || PY=/work/main/.venv/bin/python
RUNS="${1:-10}"; shift || true
export DJANGO_SETTINGS_MODULE=config.settings.local
export SQLITE_PATH="$PWD/var/bench-mpesa.sqlite3" HUEY_SQLITE_PATH="$PWD/var/bench-mpesa-huey.sqlite3"
export MPESA_SIMULATOR_PORT=8602 SITE_URL=http://127.0.0.1:8601 ALLOWED_HOSTS=127.0.0.1,localhost DEBUG=true
rm -f "$SQLITE_PATH"* "$HUEY_SQLITE_PATH"*
"$PY" manage.py migrate --no-input -v 0
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$PY" manage.py daraja_simulator --port 8602 --delay 2 --state-file var/bench-mpesa-sim.json > var/bench-mpesa-sim.log 2>&1 & PIDS+=($!)
"$PY" manage.py run_huey -w 2 -k thread "$@" > var/bench-mpesa-huey.log 2>&1 & PIDS+=($!)
"$PY" manage.py runserver 127.0.0.1:8601 --noreload > var/bench-mpesa-web.log 2>&1 & PIDS+=($!)
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:8601/healthz >/dev/null && break; sleep 0.2; done
"$PY" bench/mpesa_latency.py --base-url http://127.0.0.1:8601 --runs "$RUNS" --idle "${IDLE:-1.5}"
