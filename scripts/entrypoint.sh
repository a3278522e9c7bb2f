#!/usr/bin/env bash
# The one way the production processes start: the Dockerfile's ENTRYPOINT, every
# docker-compose service and CI (scripts/ci-production.sh) run these sub-commands, so
# what CI proves is what the image runs. It calls `python`, `gunicorn` and `celery` from
# PATH: the image's, or .venv/bin put first on PATH by CI.
#
#   collectstatic    static files with the production manifest storage (the image build)
#   check            Django's deployment checks; any warning fails
#   migrate          apply migrations, then load the shipped ladders (both safe to re-run)
#   web              gunicorn on WEB_BIND (0.0.0.0:8000): WEB_WORKERS (3) processes of
#                    WEB_THREADS (4) threads each (README: Performance, for the numbers)
#   relay            the outbox relay (manage.py run_relay)
#   worker           a Celery worker, WORKER_CONCURRENCY (2) processes
#   beat             Celery beat: the deadline sweep every SWEEP_INTERVAL_SECONDS
#   health web|worker|beat   exits 0 when that process is serving (docker healthchecks)
#   manage ARGS…     any manage.py command, e.g. `manage createsuperuser`
set -euo pipefail
cd "$(dirname "$0")/.."

# Beat wakes at least this often; it rewrites its schedule file every 3 minutes or so
# while it runs, which is what `health beat` looks at.
BEAT_SCHEDULE_FILE="${BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}"
BEAT_MAX_INTERVAL=60

usage() {
  # The comment at the top of this file.
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
  exit 64
}

command="${1:-}"
[ -n "$command" ] || usage
shift

case "$command" in
  collectstatic)
    exec python manage.py collectstatic --noinput -v0
    ;;
  check)
    exec python manage.py check --deploy --fail-level WARNING
    ;;
  migrate)
    python manage.py migrate --noinput
    exec python manage.py load_policies
    ;;
  web)
    # Threads: a request spends much of its time waiting on PostgreSQL, which another
    # thread of the same process fills (measured on 2 cores: 51 requests/s with 3 x 4
    # threads, 29 with 3 single-threaded workers).
    exec gunicorn config.wsgi:application --bind "${WEB_BIND:-0.0.0.0:8000}" \
      --workers "${WEB_WORKERS:-3}" --worker-class gthread --threads "${WEB_THREADS:-4}" \
      --timeout 60
    ;;
  relay)
    exec python manage.py run_relay
    ;;
  worker)
    exec celery -A config worker --loglevel=INFO --concurrency="${WORKER_CONCURRENCY:-2}"
    ;;
  beat)
    exec celery -A config beat --loglevel=INFO --schedule "$BEAT_SCHEDULE_FILE" \
      --max-interval "$BEAT_MAX_INTERVAL"
    ;;
  health)
    case "${1:-}" in
      web) exec python scripts/healthcheck.py web ;;
      # The worker answers a ping through the broker only when it is consuming.
      worker)
        exec celery -A config inspect ping --destination "celery@${HOSTNAME:-$(hostname)}" \
          --timeout 10 >/dev/null
        ;;
      beat) exec python scripts/healthcheck.py beat --schedule "$BEAT_SCHEDULE_FILE" ;;
      *) usage ;;
    esac
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    usage
    ;;
esac
