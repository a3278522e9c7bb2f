#!/usr/bin/env bash
# CI: the production deployment for real, with the commands the image runs
# (scripts/entrypoint.sh): production settings, a generated secret, a PostgreSQL
# database of its own, collected static files, migrations, the ladders, the demo data,
# gunicorn on a local port, the relay, a worker and beat. Then the checks over HTTP in
# tests/deploy/test_production_server.py, and the docker healthchecks of web, worker and
# beat. Needs PostgreSQL and Redis on 127.0.0.1 (.ci/run starts them). Exits non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PGOPTIONS="-c client_min_messages=warning"

database=escalations_prod_ci
work=$(mktemp -d)
pids=()
passed=false
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  # Kept after a failure, to look into.
  if $passed; then dropdb -h 127.0.0.1 -U postgres --if-exists "$database"; fi
}
trap cleanup EXIT

dropdb -h 127.0.0.1 -U postgres --if-exists "$database"
createdb -h 127.0.0.1 -U postgres "$database"
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Production as shipped: only what a council must set, plus local paths and a file
# mailbox so the relay and worker have somewhere to deliver. The proxy's https is the
# X-Forwarded-Proto header the checks send (SECURE_PROXY_SSL_HEADER), so HSTS, the https
# redirect and Secure cookies stay exactly as in production.
export DJANGO_ENV=production
DJANGO_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')
export DJANGO_SECRET_KEY
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
export REDIS_URL="redis://127.0.0.1:6379/2"
export DJANGO_ALLOWED_HOSTS=127.0.0.1
export SITE_BASE_URL=https://escalations.ci.invalid
export STATIC_ROOT="$work/static" MEDIA_ROOT="$work/uploads" ESCALATION_VAR_DIR="$work/var"
export EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
export EMAIL_FILE_PATH="$work/mail"
export WEB_BIND="127.0.0.1:$port" WEB_WORKERS=2 WORKER_CONCURRENCY=1
export BEAT_SCHEDULE_FILE="$work/celerybeat-schedule"
redis-cli -h 127.0.0.1 -n 2 flushdb >/dev/null

step() { echo "== production (${SECONDS}s): $*"; }
step "check --deploy"
scripts/entrypoint.sh check
step "collectstatic"
scripts/entrypoint.sh collectstatic
step "migrate and load_policies"
scripts/entrypoint.sh migrate >"$work/migrate.log" || { cat "$work/migrate.log"; exit 1; }
step "seed_demo (the CI users), and a first deadline sweep (beat's is 5 minutes away)"
scripts/entrypoint.sh manage seed_demo >"$work/seed.log" || { cat "$work/seed.log"; exit 1; }
scripts/entrypoint.sh manage run_sweep >"$work/sweep.log" || { cat "$work/sweep.log"; exit 1; }

step "web, relay, worker and beat"
for process in web relay worker beat; do
  scripts/entrypoint.sh "$process" >"$work/$process.log" 2>&1 &
  pids+=("$!")
done
show_logs() {
  for process in web relay worker beat; do
    echo "--- $process log"
    tail -n 30 "$work/$process.log"
  done
}
wait_healthy() {
  for _ in $(seq 1 60); do
    scripts/entrypoint.sh health "$1" 2>/dev/null && return 0
    sleep 1
  done
  echo "$1 did not become healthy"
  scripts/entrypoint.sh health "$1" || true
  show_logs
  return 1
}
# /health/: the database, Redis, no e-mail stuck in the outbox (so the relay and the
# worker are delivering the demo's e-mails) and a recent sweep.
# The full /health/ here (the container's own check is /health/live/): CI waits until the
# relay and the worker have delivered the demo's e-mails and a sweep has been recorded.
HEALTH_PATH=/health/ wait_healthy web

step "the checks over HTTP (tests/deploy)"
PRODUCTION_SERVER_URL="http://127.0.0.1:$port" python -m pytest -q -p no:cacheprovider \
  tests/deploy/test_production_server.py || { show_logs; exit 1; }

step "healthchecks of worker and beat"
wait_healthy worker
wait_healthy beat

# A process that started and then died (bad settings, a missing command) fails too.
names=(web relay worker beat)
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "${names[$i]} stopped"
    show_logs
    exit 1
  fi
done
passed=true
step "passed"
