#!/usr/bin/env bash
# Starts the image (host network: the machines CI runs on reach nothing else)
# on a free loopback port, then checks what a user of it would: it is up,
# it runs as a user without privileges, --version names the release, and an
# add and a read go through. Usage: scripts/image-test.sh IMAGE
set -euo pipefail
image=${1:?usage: $0 IMAGE}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18088)
base="http://127.0.0.1:$port"
name="connector-mock-image-test-$$"

echo "image: $image, user $(docker image inspect -f '{{.Config.User}}' "$image"), exposes $(docker image inspect -f '{{json .Config.ExposedPorts}}' "$image"), $(docker image inspect -f '{{.Size}}' "$image") bytes"
[ "$(docker image inspect -f '{{.Config.User}}' "$image")" = "65532:65532" ] || { echo "image-test: the image does not run as 65532:65532"; exit 1; }
docker run --rm "$image" --version

# The address by environment, as the image's HEALTHCHECK reads it.
docker run -d --rm --name "$name" --network host -e "CONNECTOR_MOCK_ADDR=127.0.0.1:$port" "$image" >/dev/null
trap 'docker logs "$name" 2>&1 | tail -20; docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 50); do
	curl -fsS "$base/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
# The HEALTHCHECK (`connector-mock healthcheck`, every 5 s) turns the container healthy.
health=starting
for _ in $(seq 1 60); do
	health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
	[ "$health" = starting ] || break
	sleep 0.5
done
echo "\$ docker inspect -f '{{.State.Health.Status}}' $name"
echo "$health"
[ "$health" = healthy ] || { echo "image-test: the container is $health, want healthy"; docker inspect -f '{{json .State.Health}}' "$name"; exit 1; }
echo "\$ curl $base/healthz"
curl -fsS "$base/healthz"; echo
app=0f8fad5b-d9cb-469f-a165-70867728950e
echo "\$ curl -X POST $base/applications/$app/connectorGroup/members/\$ref (Prefer: return=representation)"
added=$(curl -fsS -X POST "$base/applications/$app/connectorGroup/members/\$ref" \
	-H 'Authorization: Bearer image-test' -H 'Content-Type: application/json' -H 'Prefer: return=representation' \
	-d '{"externalIp":"203.0.113.7","machineName":"from-the-image","status":"active"}')
echo "$added"
id=$(printf '%s' "$added" | sed -n 's/.*"id":"\([0-9a-f-]*\)".*/\1/p')
echo "\$ curl $base/applications/$app/connectorGroup/members/$id"
curl -fsS "$base/applications/$app/connectorGroup/members/$id" -H 'Authorization: Bearer image-test' | grep -q from-the-image

# https: a CA and a certificate made at start, for the Compose-style name
# "mock" too; the CA written to a mounted directory, trusted by curl.
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18443)
tname="$name-tls"
cadir=$(mktemp -d)
chmod 777 "$cadir"
docker run -d --rm --name "$tname" --network host -v "$cadir:/ca" -e "CONNECTOR_MOCK_ADDR=127.0.0.1:$tport" \
	-e CONNECTOR_MOCK_TLS=true -e CONNECTOR_MOCK_TLS_CA_OUT=/ca/ca.pem -e CONNECTOR_MOCK_ALLOWED_HOSTS=mock "$image" >/dev/null
trap 'docker logs "$name" 2>&1 | tail -20; docker logs "$tname" 2>&1 | tail -5; docker rm -f "$name" "$tname" >/dev/null 2>&1 || true; rm -rf "$cadir"' EXIT
tbase="https://mock:$tport"
curlt() { curl -fsS --cacert "$cadir/ca.pem" --resolve "mock:$tport:127.0.0.1" -H 'Authorization: Bearer image-test' "$@"; }
for _ in $(seq 1 50); do
	[ -s "$cadir/ca.pem" ] && curlt "$tbase/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
echo "\$ curl --cacert ca.pem -X POST $tbase/v1.0/applications/$app/connectorGroup/members/\$ref (twice), then list with \$top=1"
for n in 1 2; do
	curlt -o /dev/null -w '%{http_version} %{http_code} %{redirect_url}\n' -X POST "$tbase/v1.0/applications/$app/connectorGroup/members/\$ref" \
		-H 'Content-Type: application/json' -d "{\"externalIp\":\"203.0.113.$n\",\"machineName\":\"tls-$n\",\"status\":\"active\"}" -D - | grep -i '^location\|^[0-9]'
done
page=$(curlt "$tbase/v1.0/applications/$app/connectorGroup/members?\$top=1")
echo "$page"
case $page in *'"@odata.nextLink":"https://mock:'*) ;; *) echo "image-test: the nextLink is not https"; exit 1 ;; esac
health=starting
for _ in $(seq 1 60); do
	health=$(docker inspect -f '{{.State.Health.Status}}' "$tname")
	[ "$health" = starting ] || break
	sleep 0.5
done
echo "\$ docker inspect -f '{{.State.Health.Status}}' $tname"
echo "$health"
[ "$health" = healthy ] || { echo "image-test: the https container is $health, want healthy"; exit 1; }
echo "image-test: ok"
