# Build, check and demo targets. `make test` is what CI runs (.ci/run).

GO ?= go
GOLANGCI_LINT_VERSION := v2.15.0
TOOLS_BIN := $(CURDIR)/.tools/bin
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: all generate check-generated lint test test-go soak fuzz demo bench

all: test

## generate: regenerate gen/ from api/openapi.yaml and api/oapi-codegen.yaml
generate:
	$(GO) generate ./gen/...

## check-generated: fail if gen/ differs from what the spec and config produce
# The current gen/ is kept aside and put back when the check fails, so hand edits are
# not lost; `make generate` replaces them.
check-generated:
	@saved=$$(mktemp -d) && cp -R gen "$$saved/gen" && \
	if ! $(GO) generate ./gen/...; then rm -rf gen && mv "$$saved/gen" gen; echo "check-generated: go generate failed" >&2; exit 1; fi; \
	if ! diff -ru "$$saved/gen" gen; then \
		rm -rf gen && mv "$$saved/gen" gen; \
		echo "check-generated: gen/ is not what api/ generates (above: current vs generated). Do not edit gen/ by hand: change api/openapi.yaml or api/oapi-codegen.yaml and run 'make generate'." >&2; \
		exit 1; \
	fi; \
	rm -rf "$$saved"; echo "check-generated: gen/ is up to date"

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS_BIN)/golangci-lint $(GOLANGCI_LINT)

## lint: go vet and golangci-lint (pinned)
lint: $(GOLANGCI_LINT)
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

## test-go: the Go tests with the race detector
test-go:
	$(GO) test -race -count=1 ./...

## soak: the soak test of 20,000 calls, without the race detector, under which it skips
soak:
	$(GO) test -count=1 -run '^TestSoak$$' -v ./tokenapi/

FUZZTIME ?= 10s

## fuzz: run every fuzz target of the module for FUZZTIME each (default 10s)
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

## test: everything CI checks
test: check-generated lint test-go soak fuzz

## demo: run the end-to-end demo against the built-in sandbox
demo:
	$(GO) run ./cmd/paycreds demo

# benchstat from golang.org/x/perf, pinned.
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_COUNT ?= 10
BENCH_OUTPUT ?= bench.out

## bench: the Go benchmarks beside their floors, BENCH_COUNT runs each, summarized by
## benchstat (see BENCHMARKS.md; not part of `make test`)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) ./tokenapi/ ./internal/httpsig/ ./internal/spec/ ./internal/sandbox/ | tee $(BENCH_OUTPUT)
	$(GO) run $(BENCHSTAT) $(BENCH_OUTPUT)
