#!/usr/bin/env bash
# CI: the backup and restore of docs/operations.md, rehearsed. Builds the demo database
# on a fresh PostgreSQL database, takes a snapshot of its escalations, steps, deadlines,
# row counts and id sequences (scripts/backup-snapshot.sql), dumps it with pg_dump, drops
# it (the lost machine), restores the dump into another fresh database with pg_restore,
# and takes the snapshot again. Exits non-zero if the two differ in any line, if the
# snapshot is missing the demo's escalations, or if the restored schema is not the one
# the code expects. Needs PostgreSQL on 127.0.0.1 (.ci/run starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PGOPTIONS="-c client_min_messages=warning"

pg=(-h 127.0.0.1 -U postgres)
source_db=escalations_backup_source
restored_db=escalations_backup_restored
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for database in "$source_db" "$restored_db"; do
  dropdb "${pg[@]}" --if-exists "$database"
done
createdb "${pg[@]}" "$source_db"

echo "== backup: the demo data on a fresh database"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$source_db"
python manage.py migrate --noinput -v0
python manage.py load_policies >"$work/load.log"
python manage.py seed_demo >"$work/seed.log"

snapshot() {
  psql "${pg[@]}" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -f scripts/backup-snapshot.sql
}
snapshot "$source_db" >"$work/before.txt"
escalations=$(grep -c '^escalation|' "$work/before.txt" || true)
steps=$(grep -c '^step|' "$work/before.txt" || true)
if [ "$escalations" -eq 0 ] || [ "$steps" -eq 0 ]; then
  echo "The demo database has no escalations or steps: nothing would be compared."
  exit 1
fi

echo "== backup: pg_dump, then the database is gone"
pg_dump "${pg[@]}" --format=custom --no-owner --file="$work/escalations.dump" "$source_db"
dropdb "${pg[@]}" "$source_db"

echo "== restore: pg_restore into a new database"
createdb "${pg[@]}" "$restored_db"
pg_restore "${pg[@]}" --no-owner --exit-on-error --dbname="$restored_db" "$work/escalations.dump"
snapshot "$restored_db" >"$work/after.txt"

if ! diff -u "$work/before.txt" "$work/after.txt"; then
  echo "The restored database differs from the one dumped (lines above)."
  exit 1
fi
# The restored schema is the one this code expects: the app can run on it as it is.
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$restored_db" \
  python manage.py migrate --check --noinput -v0
dropdb "${pg[@]}" "$restored_db"
echo "== restore rehearsed: $escalations escalations, $steps steps, every table's rows" \
  "and id sequences the same after pg_dump and pg_restore."
