#!/bin/sh
# Lints the project's workflows and the example workflows for users with
# actionlint (which also checks action.yml through the `uses: ./` steps, and
# runs shellcheck on run: scripts when shellcheck is on PATH).
# Usage: .ci/actionlint.sh [extra actionlint flags]
set -eu
cd "$(dirname "$0")/.."
ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}
exec go run "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" \
	-config-file .github/actionlint.yaml "$@" \
	.github/workflows/*.yml examples/workflows/*.yml
