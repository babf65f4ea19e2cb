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

docker run -d --rm --name "$name" --network host "$image" --addr "127.0.0.1:$port" >/dev/null
trap 'docker logs "$name" 2>&1 | tail -20; docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 50); do
	curl -fsS "$base/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
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
echo "image-test: ok"
