# Connector group members API: the spec in openapi/ is the source of truth;
# everything in generated/ comes from it.
GO ?= go
BIN ?= bin

# -race needs cgo and a C compiler; on a machine with only Go, test without it
# rather than fail (and say so).
RACE := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo -race)

.PHONY: sdk-js image image-test all generate check-generate lint breaking changelog tidy e2e update-swagger-ui test fuzz fuzz-smoke bench bench-bin bench-durable bench-journal bench-readers bench-prism bench-go build run ci clean

# How long each fuzz target runs under `make fuzz`.
FUZZTIME ?= 60s
# package:target
FUZZ_TARGETS := ./server:FuzzAddMember ./server:FuzzListAndGet ./server:FuzzSkipToken \
	./server:FuzzValidatorAgreesWithKin ./internal/odata:FuzzParse

all: build

## generate: regenerate generated/ from openapi/connector.yaml
generate:
	$(GO) generate ./generated/...

## check-generate: fail, naming each stale file, if generated/ is not what the spec makes
check-generate:
	./scripts/check-generate.sh

## lint: gofmt, go vet, staticcheck, the spec loaded and validated by kin-openapi (examples included),
## Spectral's OpenAPI ruleset over both documents with warnings as failures, and both documents validated by
## @apidevtools/swagger-parser (Spectral and swagger-parser, pinned, are installed with npm into bin/ on
## first use; make run and make test need only Go)
SPECTRAL_VERSION ?= 6.16.3
SWAGGER_PARSER_VERSION ?= 13.1.0
SPECTRAL := $(BIN)/spectral/node_modules/.bin/spectral
lint: $(BIN)/spectral/.installed-$(SPECTRAL_VERSION) $(BIN)/swagger-parser/.installed-$(SWAGGER_PARSER_VERSION)
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck ./...
	$(GO) test -count=1 -run 'TestSpec' ./openapi
	$(SPECTRAL) lint openapi/connector.yaml openapi/admin.yaml --ruleset .spectral.yaml --fail-severity warn
	node scripts/openapi-parse.cjs $(BIN)/swagger-parser openapi/connector.yaml openapi/admin.yaml

$(BIN)/spectral/.installed-$(SPECTRAL_VERSION):
	rm -rf $(BIN)/spectral
	npm install --prefix $(BIN)/spectral --no-audit --no-fund --loglevel=error @stoplight/spectral-cli@$(SPECTRAL_VERSION)
	touch $@

# A second OpenAPI parser outside Go, as the tools users feed the specs to
# (Mockoon's importer is built on it): it reads YAML 1.2, without merge keys.
$(BIN)/swagger-parser/.installed-$(SWAGGER_PARSER_VERSION):
	rm -rf $(BIN)/swagger-parser
	npm install --prefix $(BIN)/swagger-parser --no-audit --no-fund --loglevel=error @apidevtools/swagger-parser@$(SWAGGER_PARSER_VERSION)
	touch $@

## breaking: fail on a change to a spec that breaks its clients unless info.version's major was raised
## (oasdiff, pinned in go.mod; the base is the commit that set the spec's current version: see README)
breaking:
	./scripts/breaking.sh

## changelog: every change to the specs since that base, as oasdiff describes it
changelog:
	./scripts/breaking.sh changelog

# The race detector runs on the packages that run goroutines: the server,
# the client, the commands, and the examples. The generator, the spec checks
# and the helpers in internal/ are single-threaded programs, or pure
# functions that the server's tests call concurrently under the detector;
# instrumenting them made their tests 5 times slower and found nothing.
RACE_PACKAGES := ./server/... ./client/... ./cmd/...
PLAIN_PACKAGES := ./internal/... ./openapi/... ./generated/... ./bench/...
# Tests that skip under the race detector, and make test runs in a build
# without it: those that measure a cost (time or memory, as ratios, or a
# process's RSS), which the detector multiplies unevenly, and the store's model-based test, whose
# work is in child processes it kills.
NORACE_TEST_NAMES := ^(TestWorstCasesAreLinear|TestDecodingMemoryIsLinear|TestHostileSeedFilesAreLinear|TestLoopGuardIsBounded|TestAcknowledgedChangesSurvive|TestAnnouncedLengthCostsNothing|TestJournalListingsAreBounded|TestCorruptPagesAreRefused)$$
NORACE_TESTS := $(if $(RACE),$(GO) test -count=1 -run '$(NORACE_TEST_NAMES)' ./server ./client ./server/store ./cmd/connector-mock,true)

## test: every test, with the race detector (when the machine has cgo) on the packages that run goroutines; examples/graphsdk drives the mock with
## the official Microsoft Graph SDK's HTTP stack (msgraph-sdk-go-core, kiota-http-go)
test:
ifeq ($(RACE),)
	@echo "test: no C compiler for cgo; running without -race"
endif
	@# The examples (modules of their own), the packages without the race
	@# detector and the tests that skip under it run beside the race detector's packages,
	@# on the core those leave idle. Three of the race detector's packages
	@# at a time on two cores: several wait on child processes, fsyncs and
	@# sockets, and more at once only contend.
	@( cd examples/registration && $(GO) test $(RACE) -count=1 ./... && \
	   cd ../graphsdk && $(GO) test $(RACE) -count=1 ./... && \
	   cd ../.. && $(GO) test -count=1 $(PLAIN_PACKAGES) && $(NORACE_TESTS) ) & examples=$$!; \
	$(GO) test $(RACE) -p 3 -count=1 $(RACE_PACKAGES); module=$$?; \
	wait $$examples; examples=$$?; \
	[ $$module -eq 0 ] && [ $$examples -eq 0 ]

## fuzz: each fuzz target for FUZZTIME (default 60s): make fuzz FUZZTIME=10m; then the store's model-based
## test (random ops, clean restarts and kill -9 of a child process) at MODEL_SEQUENCES sequences (make test runs 6)
## (a new input is minimised for at most 10s, so a run spends its time fuzzing)
MODEL_SEQUENCES ?= 500
fuzz:
	@for entry in $(FUZZ_TARGETS); do \
		pkg=$${entry%%:*}; target=$${entry#*:}; \
		echo "== $$target in $$pkg ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=10s $$pkg || exit 1; \
	done
	@if [ "$(MODEL_SEQUENCES)" != 0 ]; then \
		echo "== TestAcknowledgedChangesSurvive in ./server/store ($(MODEL_SEQUENCES) sequences)"; \
		$(GO) test -count=1 -v -run='^TestAcknowledgedChangesSurvive$$' ./server/store -model.sequences=$(MODEL_SEQUENCES) || exit 1; \
		echo "== TestHostileSeedFilesAreLinear in ./server (the largest files)"; \
		$(GO) test -count=1 -v -run='^TestHostileSeedFilesAreLinear$$' ./server -hostile.fraction=1 || exit 1; \
	fi

## fuzz-smoke: each fuzz target briefly, as CI runs it: 500 inputs after its corpus. A count rather than a
## duration, because a duration also bounds the replay of the corpus cached from earlier runs, and a target
## whose cached corpus takes longer than that fails with "context deadline exceeded" before fuzzing at all.
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=500x MODEL_SEQUENCES=0

## bench: the mock against a bare Echo baseline over loopback, interleaved, with ratios (under 2 minutes)
bench: bench-bin
	$(BIN)/driver --mock $(BIN)/connector-mock --baseline $(BIN)/baseline --hey $(BIN)/hey $(BENCH_ARGS)

# bench-bin: what the load runs start: the server, the baseline, the driver, and hey when wrk is not on PATH
bench-bin:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/connector-mock ./bench/baseline ./bench/driver
	@command -v wrk >/dev/null || $(GO) build -o $(BIN)/hey github.com/rakyll/hey

## bench-durable: 32 clients adding to the mock with --state and to the mock in memory, interleaved, as a ratio
bench-durable: bench-bin
	$(BIN)/driver --durable --mock $(BIN)/connector-mock --hey $(BIN)/hey --rounds 3

## bench-journal: the mock with its default journal against --journal-size 0, interleaved, as a ratio
bench-journal: bench-bin
	$(BIN)/driver --journal --mock $(BIN)/connector-mock --hey $(BIN)/hey

## bench-readers: at 10^6 groups, each read whose cost must follow the request (memberOf, /metrics, the
## applications page) against a GET, and 32 clients' adds beside 4 clients repeating it (some 4 minutes)
bench-readers: bench-bin
	$(BIN)/driver --readers --mock $(BIN)/connector-mock --rounds 3 $(BENCH_ARGS)

## bench-prism: make bench, then Stoplight Prism mocking the same spec beside the baseline (needs Node.js and npm)
PRISM_VERSION ?= 5.16.0
bench-prism:
	npm install --prefix $(BIN)/prism --no-audit --no-fund --loglevel=error @stoplight/prism-cli@$(PRISM_VERSION)
	@$(MAKE) --no-print-directory bench BENCH_ARGS='--prism $(BIN)/prism/node_modules/.bin/prism'

## bench-go: the in-process Go benchmarks, each beside its bare-Echo baseline
bench-go:
	$(GO) test -run='^$$' -bench='Bare|Post|Get|ListPage|ConcurrentAdds' -benchmem -count=3 ./server
	$(GO) test -run='^$$' -bench='MemoryPerMember' -benchtime=1x ./server

## tidy: go mod tidy for the module and the examples (registration, graphsdk), which build against it
## (replace) and so need tidying whenever the module's dependencies change
tidy:
	$(GO) mod tidy
	cd examples/registration && $(GO) mod tidy
	cd examples/graphsdk && $(GO) mod tidy

## sdk-js: Microsoft Graph's JavaScript clients drive the mock (examples/sdk-js, Node's test runner, packages pinned
## by its package-lock.json): the classic client over https, the kiota stack over http. Needs Node and npm; CI runs it.
sdk-js:
	$(GO) build -o $(BIN)/ ./cmd/connector-mock
	./scripts/sdk-js.sh $(BIN)

## e2e: the pages (/docs, /_admin/), and a page of another origin calling the API (CORS), driven in a real
## headless Chromium (Debian's chromium package) with chromedp; screenshots into bin/e2e/. Not part of
## make test, which needs only Go.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 3m -v ./e2e/

## update-swagger-ui: vendor swagger-ui-dist (pinned below) into server/pages/swaggerui, which /docs serves
## embedded; records the version in VERSION. Needs npm; nothing else does.
SWAGGER_UI_VERSION ?= 5.35.0
update-swagger-ui:
	rm -rf $(BIN)/swagger-ui && mkdir -p $(BIN)/swagger-ui server/pages/swaggerui
	cd $(BIN)/swagger-ui && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null && tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz
	cd $(BIN)/swagger-ui/package && cp swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
		favicon-32x32.png LICENSE NOTICE ../../../server/pages/swaggerui/
	echo "swagger-ui-dist $(SWAGGER_UI_VERSION) (npm), by make update-swagger-ui" > server/pages/swaggerui/VERSION

## build: the server and the CLI, into bin/, stamped with the commit they are built from (--version)
# (none outside a git checkout: the version then says only the release)
REVISION := $(shell r=$$(git rev-parse --short=12 HEAD 2>/dev/null) && { git diff --quiet HEAD || r=$$r+modified; } && echo $$r)
LDFLAGS := -X github.com/connector-group/members-api/internal/version.revision=$(REVISION)
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/connector-mock ./cmd/connectorctl

## image: the container image connector-mock:VERSION (and :latest), FROM scratch: the static binary, non-root,
## on 0.0.0.0:8080. Needs a Docker engine; `.ci/run` installs and starts one where it is missing.
IMAGE ?= connector-mock
IMAGE_VERSION := $(shell sed -n 's/^const Release = "\(.*\)"/\1/p' internal/version/version.go)
# Always in bin/image: the Dockerfile copies from there, with the repository
# as the context (.dockerignore keeps only bin/image/).
image:
	rm -rf bin/image && mkdir -p bin/image/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o bin/image/connector-mock ./cmd/connector-mock
	docker build -q -f Dockerfile -t $(IMAGE):$(IMAGE_VERSION) -t $(IMAGE):latest .

## image-test: make image, then start it on 127.0.0.1 (host network) and add a member through it
image-test: image
	./scripts/image-test.sh $(IMAGE):latest

## run: the mock server on 127.0.0.1:8080, in memory (flags: make run ARGS='--token secret')
# Built, then run in place of the shell: `go run` ends with status 1 when the
# terminal's Ctrl-C reaches it too, which made make report an error after a
# clean stop.
run:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/connector-mock ./cmd/connector-mock
	exec $(BIN)/connector-mock $(ARGS)

## ci: what CI runs: the drift check, the linters (Spectral included), the breaking-change gate, the tests,
## a fuzz smoke
ci: check-generate lint breaking test fuzz-smoke

clean:
	rm -rf $(BIN)
