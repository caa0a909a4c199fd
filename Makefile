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

.PHONY: all build demo test test-unit test-integration test-perf bench tools docs check-docs clean lambda lambda-host invoke test-e2e lint fuzz test-fault

all: build

build: ## build bin/sek
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/sek ./cmd/sek

RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
GORELEASER := $(GOBIN_DIR)/goreleaser
GORELEASER_VERSION := v2.15.1

# Go-installed test tools live in bin/tools, pinned here (the fault suite finds toxiproxy there).
TOOLS := $(CURDIR)/$(BIN)/tools
# (Defined before the tools rule: make expands a rule's prerequisites as it reads them.)
tools: $(TOOLS)/toxiproxy-server $(TOOLS)/golangci-lint ## install what the tests need (moto_server, aws-lambda-rie, toxiproxy, golangci-lint, goreleaser, jq) if missing
	@command -v moto_server >/dev/null 2>&1 || pip install 'moto[server]>=5.1,<6'
	@command -v aws-lambda-rie >/dev/null 2>&1 || test -x "$$($(GO) env GOPATH)/bin/aws-lambda-rie" || $(GO) install $(RIE_MODULE)
	@# goreleaser builds from source once (about 5 minutes on 2 cores) and is kept in GOPATH/bin.
	@test -x $(GORELEASER) || { echo "installing goreleaser $(GORELEASER_VERSION) (once)"; $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION); }
	@command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq; }

TOXIPROXY_VERSION := v2.12.0
GOLANGCI_LINT_VERSION := v2.15.0

$(TOOLS)/toxiproxy-server:
	GOBIN=$(TOOLS) $(GO) install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)
	mv $(TOOLS)/server $@

$(TOOLS)/golangci-lint:
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: $(TOOLS)/golangci-lint ## golangci-lint with gosec and errcheck (.golangci.yml); module hashes match go.sum
	$(GO) mod verify
	$(TOOLS)/golangci-lint run ./...

# The fault suite alone (it also runs in test-integration): docs/reliability.md.
test-fault: tools
	$(GO) test -count=1 ./test/fault/

# Fuzz each target for FUZZTIME (the seed corpora alone run in `make test`).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./pkg/config/
	$(GO) test -run '^$$' -fuzz '^FuzzMuteRuleMatches$$' -fuzztime $(FUZZTIME) ./pkg/audit/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEvent$$' -fuzztime $(FUZZTIME) ./pkg/auditor/
	$(GO) test -run '^$$' -fuzz '^FuzzClusterFromARN$$' -fuzztime $(FUZZTIME) ./pkg/auditor/
	$(GO) test -run '^$$' -fuzz '^FuzzAccountFromARN$$' -fuzztime $(FUZZTIME) ./pkg/eks/collect/
	$(GO) test -run '^$$' -fuzz '^FuzzResourceTypeFromARN$$' -fuzztime $(FUZZTIME) ./pkg/asff/

demo: tools build ## emulated account with sample clusters, scanned and published
	$(GO) run ./test/demo $(BIN)/sek

docs: build ## regenerate generated docs (the samples need moto_server)
	$(BIN)/sek checks --output markdown > docs/checks.md
	$(GO) run ./test/gendoc configuration > docs/configuration.md
	$(GO) run ./test/gendoc samples $(BIN)/sek

# The auditor Lambda (provided.al2023). `lambda` is the deployable arm64 build the CDK stack
# packages; `lambda-host` is the same build for this machine, for aws-lambda-rie.
LAMBDA_BUILD := $(GO) build -tags lambda.norpc -trimpath -ldflags "$(LDFLAGS)"
EVENT ?= events/scheduled.json

lambda: ## build dist/lambda/bootstrap (linux/arm64)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(LAMBDA_BUILD) -o dist/lambda/bootstrap ./functions/auditor

lambda-host: ## build dist/lambda-host/bootstrap for this machine
	CGO_ENABLED=0 $(LAMBDA_BUILD) -o dist/lambda-host/bootstrap ./functions/auditor

invoke: tools lambda-host ## run one event under aws-lambda-rie against moto: make invoke EVENT=events/x.json [PRIME=1]
	$(GO) run ./test/invoke -bootstrap dist/lambda-host/bootstrap -event $(EVENT) $(if $(PRIME),-prime)

# Test targets. Each helper area adds its own target to TEST_TARGETS.
# test-perf's packages also run in test-integration (./test/...), so it is not listed twice.
TEST_TARGETS := test-unit test-integration test-e2e


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

# The Lambda end to end under aws-lambda-rie; the e2e build tag keeps it out of test-integration.
test-e2e: tools
	$(GO) vet -tags e2e ./test/
	$(GO) test -count=1 -tags e2e -run 'TestLambdaEndToEnd' ./test/

clean:
	rm -rf $(BIN) dist

# Infrastructure: the CDK app in infra/ (its own Go module, so the CLI and Lambda builds never
# compile the CDK). synth and the tests need only Go and node; deploy/destroy use the CDK CLI from
# npm and AWS credentials. See docs/deploy.md. Pass CLI options with CDK_ARGS, e.g.
#   make deploy CDK_ARGS='-c sek:regions=eu-west-1,us-east-1 -c sek:alarmEmail=ops@example.com'
CDK ?= npx --yes aws-cdk@2
CDK_ARGS ?=
INFRA_ENV := JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# -mod=mod: infra imports the root module through a replace directive, so a dependency the root
# module adds later must not break these targets until someone runs `go mod tidy` in infra/.
INFRA_GOFLAGS := -mod=mod
# cfn-lint rules tolerated in our templates; the reasons are in infra/stacks/cfnlint_test.go.
CFN_LINT_IGNORE := W3005
TEST_TARGETS += test-infra

.PHONY: synth deploy destroy test-infra tools-infra

synth: lambda ## write the CloudFormation templates to infra/cdk.out (settings from infra/cdk.json)
	cd infra && rm -rf cdk.out && $(INFRA_ENV) CDK_OUTDIR=cdk.out $(GO) run $(INFRA_GOFLAGS) .
	@if command -v cfn-lint >/dev/null 2>&1; then \
		cfn-lint --ignore-checks $(CFN_LINT_IGNORE) -- infra/cdk.out/*.template.json && echo "cfn-lint: clean"; \
	else echo "cfn-lint not installed; skipped linting (pip install cfn-lint)"; fi
	@ls infra/cdk.out/*.template.json

deploy: lambda ## deploy the auditor (and forwarders) to the current AWS account with the CDK CLI
	cd infra && $(INFRA_ENV) $(CDK) deploy --all $(CDK_ARGS)

destroy: lambda ## remove every Sek stack from the current AWS account
	cd infra && $(INFRA_ENV) $(CDK) destroy --all $(CDK_ARGS)

tools-infra: ## install cfn-lint if missing
	@command -v cfn-lint >/dev/null 2>&1 || pip install 'cfn-lint>=1,<2'

test-infra: tools-infra ## CDK stacks: template and IAM assertions, cdk-nag, cfn-lint, event pattern
	cd infra && $(INFRA_ENV) $(GO) vet $(INFRA_GOFLAGS) ./... && $(INFRA_ENV) $(GO) test $(INFRA_GOFLAGS) -count=1 ./...

# Documentation and releases. The documentation's own tests (every documented command, the output
# samples, the CI examples, links and diagrams) run in test-integration; test-docs runs `make demo`,
# the first command the README gives.
TEST_TARGETS += test-docs test-release

.PHONY: test-docs test-release release-snapshot

test-docs: demo

test-release: tools ## the release configuration is valid for GoReleaser v2.15
	$(GORELEASER) check

release-snapshot: tools ## build every release artifact into dist/release/ without publishing
	$(if $(shell command -v syft),,@echo "syft not found: building without SBOMs")
	$(if $(shell command -v syft),,SEK_NO_SBOM=1) $(GORELEASER) release --snapshot --clean

# Declared last: make expands a rule's prerequisites when it reads the rule, so every
# `TEST_TARGETS +=` above must come first.
test: tools $(TEST_TARGETS) ## run every test
