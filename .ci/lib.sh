#!/usr/bin/env bash
# Shared set-up for .ci/start (run the shop) and .ci/test (run the suite). Idempotent: a second run
# skips what is already installed. Needs root (or sudo) for apt-get on a fresh Debian machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }

# Debian packages: mysqlclient's build needs libmariadb-dev + pkg-config; WeasyPrint needs Pango;
# pdftotext/pdftoppm read our PDFs in tests; mariadb-client gives mariadb-dump/mysqldump and mysql for
# `manage.py backup` / `restore` on MySQL (the nightly backup runs from the shop's own processes);
# Chromium runs the browser tests.
APT_RUN=(build-essential pkg-config libmariadb-dev libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b
         libharfbuzz-subset0 fonts-dejavu-core shared-mime-info poppler-utils mariadb-client)
APT_TEST=(chromium)

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  log "Installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 is required (Django 5.2 LTS; see README)." >&2
  return 1
}

python_env() {
  if [ ! -x "$PY" ]; then
    log "Creating the virtual environment in .venv"
    "$(find_python)" -m venv "$VENV"
  fi
  local stamp="$VENV/.requirements.sha"
  local want
  want="$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "Installing Python packages (requirements/dev.txt, requirements/prod.txt)"
    "$PY" -m pip install -q --disable-pip-version-check -r requirements/dev.txt -r requirements/prod.txt
    echo "$want" > "$stamp"
  fi
}

# MariaDB and Redis run on every machine of ours; start them if they have stopped.
ensure_services() {
  if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
      log "Starting MariaDB"
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
      for _ in $(seq 1 30); do mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
    fi
  fi
  # Django converts times to Africa/Nairobi in SQL (CONVERT_TZ): MariaDB needs its time-zone tables,
  # or every date lookup and report by day silently finds nothing.
  if mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    if [ "$(mysql -h 127.0.0.1 -uroot -N -e 'SELECT COUNT(*) FROM mysql.time_zone_name' 2>/dev/null || echo 0)" = "0" ]; then
      log "Loading MariaDB's time-zone tables"
      mysql_tzinfo_to_sql /usr/share/zoneinfo 2>/dev/null | mysql -h 127.0.0.1 -uroot mysql
    fi
  fi
  if command -v redis-server >/dev/null 2>&1; then
    if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
      log "Starting Redis"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
    fi
  fi
}
