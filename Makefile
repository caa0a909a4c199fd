# Sek — every entry point a user or CI needs. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X github.com/sek-dev/sek/internal/version.version=$(VERSION) \
	-X github.com/sek-dev/sek/internal/version.commit=$(COMMIT) \
	-X github.com/sek-dev/sek/internal/version.date=$(DATE)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: all build demo test test-unit test-integration test-perf bench tools docs check-docs clean

all: build

build: ## build bin/sek
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sek ./cmd/sek

tools: ## install what the tests need (moto_server) if missing
	@command -v moto_server >/dev/null 2>&1 || pip install 'moto[server]>=5.1,<6'

demo: tools build ## emulated account with sample clusters, scanned and published
	$(GO) run ./test/demo $(BIN)/sek

docs: build ## regenerate generated docs
	$(BIN)/sek checks --output markdown > docs/checks.md

# Test targets. Each helper area adds its own target to TEST_TARGETS.
TEST_TARGETS := test-unit test-integration test-perf

test: tools $(TEST_TARGETS) ## run every test

test-unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./pkg/... ./internal/... ./cmd/...

test-integration: build
	$(GO) test -count=1 ./test/...

# The fake AWS endpoint and the benchmark harness must keep working: a quick smoke run.
test-perf:
	$(GO) test -count=1 ./test/fakeaws/ ./test/bench/

# Benchmarks against the fake AWS endpoint (docs/performance.md). Not part of `make test`: the
# 1,020-cluster runs take minutes at the default 100 ms latency.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 1x ./test/bench/
	$(GO) run ./test/bench/cmd/sekbench -sek $(BIN)/sek $(SEKBENCH_FLAGS)

clean:
	rm -rf $(BIN) dist
