#!/usr/bin/env bash
# breaking: what a change to the specs does to the clients already out there.
#
#   scripts/breaking.sh            fail on a breaking change that info.version's major does not acknowledge
#   scripts/breaking.sh changelog  print every change since the base
#
# The base of each spec is the commit that set its current info.version (as
# committed): the last release of that document. A change since then that
# oasdiff calls breaking fails unless the working tree's major version is
# higher than the base's. It needs the history (a full clone, as CI has).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-breaking}

if [[ $(git rev-parse --is-shallow-repository 2>/dev/null || echo false) == true ]]; then
	echo "breaking: this is a shallow clone; fetch the history (git fetch --unshallow) to compare with the base" >&2
	exit 1
fi
mkdir -p bin
# Built once for the pinned version: again only when go.sum has changed since.
[[ bin/oasdiff -nt go.sum ]] || go build -o bin/oasdiff github.com/oasdiff/oasdiff

version_of() { awk '/^info:/{i=1} i && /^  version:/{print $2; exit}'; }
major_of() { echo "${1%%.*}"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for spec in openapi/connector.yaml openapi/admin.yaml; do
	committed=$(git show "HEAD:$spec" 2>/dev/null | version_of || true)
	if [[ -z $committed ]]; then
		echo "breaking: $spec has no committed version yet: nothing to compare it with"
		continue
	fi
	base=$(git log -n1 --format=%H -S"  version: $committed" -- "$spec")
	current=$(version_of <"$spec")
	rm -rf "$tmp/base" && mkdir -p "$tmp/base/openapi"
	for f in $(git ls-tree --name-only "$base" openapi/ | grep '\.yaml$'); do
		git show "$base:$f" >"$tmp/base/$f"
	done
	echo "== $spec: $current, against $committed as of ${base:0:12} ($(git log -n1 --format=%s "$base" | cut -c1-60))"
	if [[ $mode == changelog ]]; then
		bin/oasdiff changelog "$tmp/base/$spec" "$spec"
		continue
	fi
	if bin/oasdiff breaking --fail-on ERR "$tmp/base/$spec" "$spec"; then
		echo "breaking: no breaking change in $spec"
	elif (($(major_of "$current") > $(major_of "$committed"))); then
		echo "breaking: the breaking changes above are acknowledged: $spec goes from $committed to $current"
	else
		echo "breaking: $spec has breaking changes (above) but its version goes from $committed to $current:" >&2
		echo "  raise the major version, or make the change compatible (see README, Workflow 1)" >&2
		status=1
	fi
done
exit $status
