#!/usr/bin/env bash
# check-generate: regenerates the code into a temporary copy and compares it
# with what is committed. Fails, naming each stale file, when they differ.
# The generator's arguments are read from generated/generate.go, so this check
# and `make generate` cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

directive=$(grep -h '^//go:generate ' generated/*.go)
args=${directive#*oapi-codegen/v2/cmd/oapi-codegen }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/oapi-codegen" github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen
cp -R generated openapi "$tmp/"
rm -f "$tmp"/generated/*.gen.go
(cd "$tmp/generated" && eval "\"$tmp/oapi-codegen\" $args")

stale=0
for f in "$tmp"/generated/*.gen.go; do
	name=generated/$(basename "$f")
	if [[ ! -f $name ]]; then
		echo "check-generate: $name is missing: run 'make generate'" >&2
		stale=1
	elif ! cmp -s "$f" "$name"; then
		echo "check-generate: $name is stale: run 'make generate'" >&2
		diff -u "$name" "$f" | head -n 20 >&2 || true
		stale=1
	fi
done
for f in generated/*.gen.go; do
	if [[ ! -f $tmp/generated/$(basename "$f") ]]; then
		echo "check-generate: $f is no longer generated: delete it or run 'make generate'" >&2
		stale=1
	fi
done
if [[ $stale -ne 0 ]]; then
	exit 1
fi
echo "check-generate: generated code is up to date"
