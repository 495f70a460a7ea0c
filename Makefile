# The one command that runs every test: `make test`.
GO ?= go

.PHONY: test vet gotest sdktest build run bench load fuzz

test: vet gotest sdktest

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal)" || (echo "gofmt needed:"; gofmt -l cmd internal; exit 1)

gotest:
	cd internal/strength/testdata/oracle && npm ci --no-audit --no-fund
	$(GO) test -race ./...

sdktest:
	cd sdktest && npm ci --no-audit --no-fund && npm test

build:
	$(GO) build -o bin/latch ./cmd/latch

run:
	$(GO) run ./cmd/latch serve

bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/bench/

load:
	$(GO) run ./cmd/latchload -duration 10s

# Every fuzz target in the tree for FUZZTIME each. go test takes one -fuzz
# target per package per run, so loop; targets are found by name, so a new
# Fuzz function is fuzzed the day it is added.
FUZZTIME ?= 5s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' cmd internal | sort); do \
		pkg=./$$(dirname $$f); \
		for t in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done
