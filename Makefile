# The README's two commands: `make dev` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
NODE_TEST := node --import tsx --test --test-reporter=spec
TEST_FILES = $(shell find services replication deploy cli bench test-e2e -name '*.test.ts' -not -path '*/node_modules/*' 2>/dev/null | sort)
# Suites also run against make dev's two regions, every call through the global endpoint.
REGIONS_E2E := test-e2e/worker.test.ts test-e2e/foundation.test.ts test-e2e/bad-input.test.ts
# Files whose assertions ride real failure windows (regions killed, links cut, failovers under load,
# lag measured against a clock) run one at a time after the rest; every other file runs two at a
# time, since most of a file's time is spent waiting on servers rather than on a core.
SERIAL_TESTS := test-e2e/global-failover.test.ts test-e2e/region-failover.test.ts test-e2e/chaos.test.ts test-e2e/tls-up.test.ts
PARALLEL_TESTS = $(filter-out $(SERIAL_TESTS),$(TEST_FILES))
CASSANDRA := npx tsx deploy/cassandra/cli.ts
REDIS := npx tsx deploy/redis/cli.ts
CHROMIUM := npx tsx deploy/chromium/cli.ts
TEMPORAL_UI := npx tsx deploy/temporal-ui/cli.ts
OPENSEARCH := npx tsx deploy/opensearch/cli.ts

.PHONY: install dev test typecheck cassandra-fetch opensearch-fetch redis-install chromium-install ui-install ui test-unit proto clean

install: node_modules/.tandem-installed

node_modules/.tandem-installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

dev: install
	node bin/tandem.mjs dev

typecheck: install
	npx tsc -p .

cassandra-fetch: install
	$(CASSANDRA) fetch

# OpenSearch 2.19 from Maven Central (the production visibility store); its tests need it.
opensearch-fetch: install
	$(OPENSEARCH) fetch

# redis-server from Debian (apt-get) when it is not on the machine; membership tests need it.
redis-install: install
	$(REDIS) install

# chromium from Debian (apt-get) when it is not on the machine; the ops page's browser test drives it.
chromium-install: install
	$(CHROMIUM) install

# The official Temporal UI server (ui-server v2.42.1) built with `go install` into ~/.cache/tandem
# (TANDEM_CACHE); skipped when it is there. The Web UI's browser test needs it.
ui-install: install
	$(TEMPORAL_UI) install

# The official Temporal Web UI on http://127.0.0.1:8233 against make dev's global endpoint
# (127.0.0.1:7233), as `temporal server start-dev` serves it; run it beside `make dev`.
ui: ui-install
	$(TEMPORAL_UI) run --address 127.0.0.1:7233 --port 8233

# The whole suite: type check, then every test file. Cassandra-, OpenSearch- and Redis-backed tests
# share one test instance of each (the two JVMs start side by side), stopped at the end whatever happens.
# Test files share one workflow bundle cached under .tandem/test-cache (test-e2e/workflow-bundle.ts).
test: install typecheck cassandra-fetch opensearch-fetch redis-install chromium-install ui-install
	@set -euo pipefail; \
	trap '$(CASSANDRA) stop --name test >/dev/null 2>&1 || true; $(OPENSEARCH) stop --name test >/dev/null 2>&1 || true; $(REDIS) stop --name test >/dev/null 2>&1 || true' EXIT; \
	$(OPENSEARCH) start --name test --port 29200 --transport-port 29300 --heap-mb 512 & opensearch=$$!; \
	$(CASSANDRA) start --name test --port 19042 --storage-port 17000 --heap-mb 640 --unsafe-system; \
	wait $$opensearch; \
	export TANDEM_TEST_CASSANDRA=127.0.0.1:19042 TANDEM_TEST_OPENSEARCH=http://127.0.0.1:29200; \
	$(NODE_TEST) --test-concurrency=2 $(PARALLEL_TESTS); \
	$(NODE_TEST) --test-concurrency=1 $(SERIAL_TESTS); \
	TANDEM_E2E_STORES=sqlite TANDEM_E2E_REGIONS=2 $(NODE_TEST) --test-concurrency=1 $(REGIONS_E2E)

# Fast tests only (no Cassandra, no OpenSearch, no end-to-end).
test-unit: install
	TANDEM_E2E_STORES=sqlite $(NODE_TEST) $(filter-out test-e2e/% bench/% services/persistence/cassandra/% deploy/cassandra/% deploy/opensearch/%,$(TEST_FILES))

# Regenerates proto/gen from proto/ (ts-proto through buf's npm binary); commit the result.
proto: install
	npx buf lint proto
	rm -rf proto/gen
	npx buf generate proto --template proto/buf.gen.yaml

clean:
	rm -rf .tandem
