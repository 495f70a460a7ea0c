#!/usr/bin/env bash
# Produces every figure in docs/benchmarks.md. Loopback only, bounded runs.
# Needs the local PostgreSQL (LATCH_BENCH_POSTGRES_URL overrides the URL).
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${LATCH_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
D=${LATCH_BENCH_DURATION:-10s}
bin=$(mktemp -d)
trap 'rm -rf "$bin"; [ -n "${SP:-}" ] && kill -TERM "$SP" 2>/dev/null || true' EXIT
go build -o "$bin/latch" ./cmd/latch
go build -o "$bin/latchload" ./cmd/latchload

echo "## go test -bench (in-process handler, no network)"
go test -run '^$' -bench . -benchtime 2s -benchmem ./internal/bench/

echo; echo "## latchload, Latch in process, SQLite"
"$bin/latchload" -duration "$D"

echo; echo "## latchload, passwords and OTP sends (SQLite)"
"$bin/latchload" -duration "$D" -scenarios plain,argon2id-raw,password-login,otp-send

echo; echo "## latchload, Latch in process, PostgreSQL"
psql "$PG" -qc "DROP SCHEMA IF EXISTS latch_bench CASCADE; CREATE SCHEMA latch_bench"
"$bin/latchload" -duration "$D" -database-url "$PG&search_path=latch_bench"

echo; echo "## latchload against a real latch serve (SQLite, JSON access log to a file)"
"$bin/latch" serve --data-dir "$bin/data" --listen 127.0.0.1:4600 --log-format json >/dev/null 2>"$bin/serve.log" &
SP=$!
for _ in $(seq 1 100); do
  [ -f "$bin/data/credentials.json" ] && curl -s --cacert "$bin/data/tls/ca.pem" https://127.0.0.1:4600/healthz >/dev/null && break
  sleep 0.1
done
"$bin/latchload" -duration "$D" -target https://127.0.0.1:4600 -target-data-dir "$bin/data"
