#!/usr/bin/env bash
# Produces every figure in docs/benchmarks.md. Loopback only, bounded runs.
# Needs the local PostgreSQL (LATCH_BENCH_POSTGRES_URL overrides the URL).
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${LATCH_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
D=${LATCH_BENCH_DURATION:-10s}
bin=$(mktemp -d)
SP=
trap 'rm -rf "$bin"; [ -n "$SP" ] && kill -TERM "$SP" 2>/dev/null || true' EXIT
go build -o "$bin/latch" ./cmd/latch
go build -o "$bin/latchload" ./cmd/latchload

# serve PORT DATA_DIR [latch serve flags...] starts `latch serve` in the
# background as SP, logging JSON to DATA_DIR.log, and waits for /healthz.
serve() {
  local port=$1 data=$2
  shift 2
  "$bin/latch" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-format json "$@" >/dev/null 2>"$data.log" &
  SP=$!
  for _ in $(seq 1 100); do
    [ -f "$data/credentials.json" ] && curl -s --cacert "$data/tls/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "latch serve on :$port did not become healthy; log:" >&2
  cat "$data.log" >&2
  return 1
}

# unserve stops SP (graceful shutdown) and waits for it.
unserve() {
  kill -TERM "$SP"
  wait "$SP" || true
  SP=
}

echo "## go test -bench (in-process handler, no network)"
go test -run '^$' -bench . -benchtime 3s -benchmem ./internal/bench/

echo; echo "## latchload, Latch in process, SQLite"
"$bin/latchload" -duration "$D"

echo; echo "## latchload, passwords and OTP sends (SQLite)"
"$bin/latchload" -duration "$D" -scenarios plain,argon2id-raw,argon2id-raw-pooled,password-login,otp-send
echo; echo "## password logins against raw argon2id in alternating slices, against latch serve (SQLite)"
serve 4603 "$bin/data-pw" --rate-limits off
"$bin/latchload" -duration 20s -scenarios password-ratio,plain,otp-send -target https://127.0.0.1:4603 -target-data-dir "$bin/data-pw" -target-pid "$SP"
unserve

echo; echo "## latchload, Latch in process, PostgreSQL"
psql "$PG" -qc "DROP SCHEMA IF EXISTS latch_bench CASCADE; CREATE SCHEMA latch_bench"
"$bin/latchload" -duration "$D" -database-url "$PG&search_path=latch_bench"

echo; echo "## latchload against a real latch serve (SQLite, JSON access log to a file)"
serve 4600 "$bin/data" --rate-limits off
"$bin/latchload" -duration "$D" -target https://127.0.0.1:4600 -target-data-dir "$bin/data"
unserve

# The realistic mix against `latch serve` in its own process, rate limits
# off (every worker shares one IP, so per-IP send limits would trip), with
# the server's peak RSS read from /proc after the run.
echo; echo "## latchload realistic mix against a real latch serve (SQLite, rate limits off)"
serve 4601 "$bin/data-mix-sqlite" --rate-limits off
"$bin/latchload" -duration "$D" -scenarios plain,mix -target https://127.0.0.1:4601 -target-data-dir "$bin/data-mix-sqlite" -target-pid "$SP"
unserve

# On PostgreSQL `latch serve` makes its project (and credentials.json) only
# on an empty database: a fresh schema and a fresh data dir.
echo; echo "## latchload realistic mix against a real latch serve (PostgreSQL, rate limits off)"
PGOPTIONS="-c client_min_messages=warning" psql "$PG" -qc "DROP SCHEMA IF EXISTS latch_bench_mix CASCADE; CREATE SCHEMA latch_bench_mix"
serve 4602 "$bin/data-mix-pg" --rate-limits off --database-url "$PG&search_path=latch_bench_mix"
"$bin/latchload" -duration "$D" -scenarios plain,mix -target https://127.0.0.1:4602 -target-data-dir "$bin/data-mix-pg" -target-pid "$SP"
unserve
PGOPTIONS="-c client_min_messages=warning" psql "$PG" -qc "DROP SCHEMA latch_bench_mix CASCADE"
