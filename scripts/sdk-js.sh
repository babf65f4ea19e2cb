#!/usr/bin/env bash
# sdk-js: Microsoft Graph's JavaScript clients against the mock
# (examples/sdk-js): the classic client over https (--tls, its CA trusted
# with NODE_EXTRA_CA_CERTS, as a Node app would), the kiota stack over http.
# The packages are pinned by examples/sdk-js/package-lock.json (npm ci).
# Usage: scripts/sdk-js.sh BIN (where connector-mock was built)
set -euo pipefail
bin=${1:?usage: $0 BIN}
cd "$(dirname "$0")/.."
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
https_port=$(free_port)
http_port=$(free_port)
# A rate limit the throttling test reaches with 21 requests of one token.
"$bin/connector-mock" --addr "127.0.0.1:$https_port" --tls --tls-ca-out "$work/ca.pem" --rate-limit 20/1s >"$work/https.log" 2>&1 &
pids+=($!)
"$bin/connector-mock" --addr "127.0.0.1:$http_port" --rate-limit 20/1s >"$work/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
	[ -s "$work/ca.pem" ] && curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
(cd examples/sdk-js && npm ci --no-audit --no-fund --loglevel=error)
cd examples/sdk-js
NODE_EXTRA_CA_CERTS="$work/ca.pem" MOCK_HTTPS="https://localhost:$https_port" MOCK_HTTP="http://127.0.0.1:$http_port" \
	node --test --test-reporter=spec
