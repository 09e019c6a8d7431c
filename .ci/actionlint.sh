#!/bin/sh
# Lints with actionlint (which runs shellcheck on run: scripts when shellcheck
# is on PATH):
#   - the project's workflows (.github/workflows), whose `uses: ./` steps also
#     check action.yml;
#   - the example workflows for users (examples/workflows);
#   - the quick-start workflow, extracted from README.md and docs/action.md,
#     which must also equal examples/workflows/gate.yml byte for byte;
#   - the examples once more with the released action (nsys-gate/gate@v1,
#     nsys-gate/gate/setup@v1) replaced by this checkout's (./, ./setup), so
#     that their `with:` inputs are checked against action.yml and
#     setup/action.yml.
# It also checks that every INPUT_* variable the examples and docs hand to
# `gate action` names an input of action.yml.
# Usage: .ci/actionlint.sh [extra actionlint flags]
set -eu
cd "$(dirname "$0")/.."
ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}

# Inside the checkout: actionlint resolves `uses: ./` against the repository
# that holds the linted file.
tmp=$(mktemp -d .actionlint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# README.md and docs/action.md show examples/workflows/gate.yml after a
# '<!-- quick-start workflow' line; each copy is linted and must equal it.
for doc in README.md docs/action.md; do
	quick=$tmp/$(basename "$doc" .md)-quick-start.yml
	awk '/^<!-- quick-start workflow/ { on = 1; next }
		on && /^```yaml$/ { body = 1; next }
		body && /^```$/ { exit }
		body { print }' "$doc" >"$quick"
	if [ ! -s "$quick" ]; then
		echo "$doc: no \`\`\`yaml block after the '<!-- quick-start workflow' line"
		exit 1
	fi
	if ! cmp -s "$quick" examples/workflows/gate.yml; then
		echo "$doc's quick-start workflow differs from examples/workflows/gate.yml:"
		diff -u examples/workflows/gate.yml "$quick" || true
		exit 1
	fi
done

for f in examples/workflows/*.yml; do
	local=$tmp/local-$(basename "$f")
	sed -e 's#uses: nsys-gate/gate/setup@v1\([[:space:]]\|$\)#uses: ./setup\1#' \
		-e 's#uses: nsys-gate/gate@v1\([[:space:]]\|$\)#uses: ./\1#' \
		"$f" >"$local"
	if grep -n 'uses: *nsys-gate/' "$local"; then
		echo "$f: a reference to gate that is not nsys-gate/gate@v1 or nsys-gate/gate/setup@v1"
		exit 1
	fi
done

inputs=$(awk '/^inputs:/ { on = 1; next }
	/^[a-z]/ { on = 0 }
	on && /^  [a-z][a-z0-9-]*:$/ { sub(/^  /, ""); sub(/:$/, ""); print }' action.yml)
bad=0
for var in $(grep -ho 'INPUT_[A-Z0-9][A-Z0-9_-]*' examples/workflows/*.yml README.md docs/action.md | sort -u); do
	name=$(echo "${var#INPUT_}" | tr 'A-Z_' 'a-z ')
	if ! echo "$inputs" | grep -qxF "$name"; then
		echo "$var: action.yml has no input \"$name\""
		bad=1
	fi
done
[ "$bad" = 0 ]

flags="$*"
set -- .github/workflows/*.yml examples/workflows/*.yml "$tmp"/*.yml
# shellcheck disable=SC2086 # the extra flags split on spaces
go run "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" \
	-config-file .github/actionlint.yaml $flags "$@"
echo "actionlint: $# workflow files clean"
