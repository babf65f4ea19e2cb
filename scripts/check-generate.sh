#!/usr/bin/env bash
# check-generate: runs `go generate ./generated/...` in a temporary copy of the
# module and compares every generated file with what is committed. Fails,
# naming each stale file, when they differ. It runs the same go:generate
# directives as `make generate`, so the two cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp go.mod go.sum tools.go "$tmp/"
mkdir -p "$tmp/internal"
cp -R openapi generated "$tmp/"
cp -R internal/validatorgen internal/reqcheck internal/bundle "$tmp/internal/"
find "$tmp/generated" \( -name '*.gen.go' -o -name '*.bundled.yaml' \) -delete
(cd "$tmp" && go generate ./generated/...)

stale=0
while IFS= read -r f; do
	name=${f#"$tmp"/}
	if [[ ! -f $name ]]; then
		echo "check-generate: $name is missing: run 'make generate'" >&2
		stale=1
	elif ! cmp -s "$f" "$name"; then
		echo "check-generate: $name is stale: run 'make generate'" >&2
		diff -u "$name" "$f" | head -n 20 >&2 || true
		stale=1
	fi
done < <(find "$tmp/generated" \( -name '*.gen.go' -o -name '*.bundled.yaml' \) | sort)
while IFS= read -r f; do
	if [[ ! -f $tmp/$f ]]; then
		echo "check-generate: $f is no longer generated: delete it or run 'make generate'" >&2
		stale=1
	fi
done < <(find generated \( -name '*.gen.go' -o -name '*.bundled.yaml' \) | sort)
if [[ $stale -ne 0 ]]; then
	exit 1
fi
echo "check-generate: generated code is up to date"
