# licensed — make help lists the targets.
GO       ?= go
BIN      := bin
PKGS     := ./...
LDFLAGS  := -s -w
DEMO_DIR ?= demo-state
.DEFAULT_GOAL := help

build: ## Build licensed, licensectl and licportal into bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/licensed ./cmd/licensectl ./cmd/licportal

run: build ## Start a simulated demo device on loopback (state in ./demo-state)
	./scripts/demo.sh $(DEMO_DIR)

test: build ## Run every test (unit, fuzz seeds, black-box with real peers) with the race detector
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

bench: build ## Run the benchmarks and print the figures table
	./bench/run.sh

soak: build ## Long runs: crash cycles, fuzzing, load (see docs/RELIABILITY.md)
	./bench/soak.sh

cross: ## Build licensed and licensectl for linux/arm64, linux/arm and linux/mips (softfloat)
	GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-arm64/ ./cmd/licensed ./cmd/licensectl
	GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-arm/ ./cmd/licensed ./cmd/licensectl
	GOOS=linux GOARCH=mips GOMIPS=softfloat $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/linux-mips/ ./cmd/licensed ./cmd/licensectl

fmt: ## Verify formatting (fails, listing files, if gofmt would change any)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: ## go vet every package
	$(GO) vet $(PKGS)

install: build ## Install binaries, the systemd unit and an example configuration (PREFIX=/usr/local)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)/etc/licensed $(DESTDIR)/lib/systemd/system
	install -m 0755 $(BIN)/licensed $(BIN)/licensectl $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/licensed.service $(DESTDIR)/lib/systemd/system/licensed.service
	test -e $(DESTDIR)/etc/licensed/licensed.conf || install -m 0600 docs/licensed.conf.example $(DESTDIR)/etc/licensed/licensed.conf

clean: ## Remove build output and demo state
	rm -rf $(BIN) $(DEMO_DIR)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

PREFIX ?= /usr/local
.PHONY: build run test bench soak cross fmt vet install clean help
