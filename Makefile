# liveloop — the few targets a contributor needs.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -s -w -X github.com/liveloop/liveloop/internal/cli.Version=$(VERSION)

.PHONY: run demo build test test-short bench lint services clean

run: ## serve on ./liveloop.db
	$(GO) run ./cmd/liveloop serve

demo: ## seed the demo brand and serve it
	$(GO) run ./cmd/liveloop demo

build: ## a static binary in ./bin (no cgo)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/liveloop ./cmd/liveloop

test: ## the whole suite: vet, then every test with the race detector
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

test-short: ## without -race, for a quick loop
	$(GO) test -count=1 ./...

bench: ## benchmarks (results go to docs/benchmarks.md by hand)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./internal/event/

lint: ## formatting and vet
	test -z "$$(gofmt -l cmd internal)"
	$(GO) vet ./...

services: ## start PostgreSQL and NATS, install chromium (for the full test suite)
	scripts/test-services.sh

clean:
	rm -rf bin
