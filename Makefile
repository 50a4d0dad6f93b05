# Shequ — the two commands: `make run` (demo) and `make test` (everything).
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/shequ

.PHONY: run test build assets bench vet fmt clean

## run: build and start the demo jurisdiction (锡山区) on SQLite; prints the address and logins
run: build
	./$(BIN) demo --residents 10000 --cases 2000 --incidents 3000 --seed 1

## build: the single binary, with the front-end assets embedded
build: assets
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/shequ

## assets: htmx and ECharts from npm (package-lock.json), copied for embedding
assets:
	bash scripts/assets.sh

## test: install what the tests need (Chromium, PostgreSQL, npm packages), then run every test on SQLite and PostgreSQL
test: assets
	bash scripts/test.sh

## bench: measure the figures in docs/benchmarks.md (takes several minutes)
bench: build
	bash scripts/bench.sh

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
