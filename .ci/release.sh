#!/usr/bin/env bash
# Release checks, without publishing anything:
#   1. `goreleaser check` on .goreleaser.yaml, with the GoReleaser version the
#      release workflow uses;
#   2. a snapshot release: both binaries, their archives and checksums.txt
#      (the images too, where a Docker engine with buildx is running; this
#      project's CI machine has none, GitHub's runners do);
#   3. the snapshot's amd64 binary says its version;
#   4. setup/install.sh installs it from the snapshot's archives as it would
#      from a GitHub release, and refuses an archive whose checksum is wrong;
#   5. .ci/release-pin.sh still finds the lines it pins.
# Usage: .ci/release.sh   (GORELEASER=path uses that binary instead of go install)
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with goreleaser-action's version in .github/workflows/release.yml.
# v2.15.1 is the newest release that builds with Go 1.26.
GORELEASER_VERSION=v2.15.1
goreleaser=${GORELEASER:-}
if [ -z "$goreleaser" ]; then
	bin=${XDG_CACHE_HOME:-$HOME/.cache}/gate-ci/goreleaser-$GORELEASER_VERSION
	# cgo-free, and without the CGO_CFLAGS that .ci/run sets for go-nvml: the
	# same build flags every time, so the build cache serves later runs.
	env -u CGO_CFLAGS CGO_ENABLED=0 GOBIN="$bin" go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
	goreleaser=$bin/goreleaser
fi

echo "== goreleaser check"
"$goreleaser" check

echo "== goreleaser snapshot"
skip=(--skip=docker)
if docker buildx version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	skip=()
else
	echo "(no Docker engine with buildx here: binaries, archives and checksums only)"
fi
"$goreleaser" release --snapshot --clean "${skip[@]}"

version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' dist/metadata.json)
[ -n "$version" ] || { echo "dist/metadata.json: no version"; exit 1; }
echo "snapshot version: $version"

echo "== the amd64 binary runs"
out=$(dist/gate-amd64_linux_amd64_v1/gate version)
echo "$out"
case $out in
*"v$version"*) ;;
*) echo "gate version does not say v$version"; exit 1 ;;
esac

echo "== setup/install.sh from the snapshot's archives"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The layout of a GitHub release: BASE/download/vX.Y.Z/ASSET.
mkdir -p "$tmp/releases/download/v$version"
cp dist/checksums.txt dist/gate_"$version"_linux_*.tar.gz "$tmp/releases/download/v$version/"
: >"$tmp/path"
: >"$tmp/output"
GATE_DOWNLOAD_URL="file://$tmp/releases" GATE_VERSION="v$version" GATE_INSTALL_DIR="$tmp/bin" \
	GITHUB_PATH="$tmp/path" GITHUB_OUTPUT="$tmp/output" sh setup/install.sh
grep -qx "$tmp/bin" "$tmp/path" || { echo "install.sh did not add $tmp/bin to GITHUB_PATH"; exit 1; }
grep -qx "version=v$version" "$tmp/output" || { echo "install.sh did not set the version output"; exit 1; }
grep -qx "path=$tmp/bin/gate" "$tmp/output" || { echo "install.sh did not set the path output"; exit 1; }
"$tmp/bin/gate" version | grep -qF "v$version"

echo "== setup/install.sh refuses a tampered archive"
archive="$tmp/releases/download/v$version/gate_${version}_linux_amd64.tar.gz"
printf 'x' >>"$archive"
if GATE_DOWNLOAD_URL="file://$tmp/releases" GATE_VERSION="$version" GATE_INSTALL_DIR="$tmp/bad" \
	sh setup/install.sh 2>"$tmp/err"; then
	echo "install.sh installed an archive whose checksum is wrong"; exit 1
fi
grep -q "SHA-256" "$tmp/err" || { cat "$tmp/err"; echo "install.sh failed, but not on the checksum"; exit 1; }
[ ! -e "$tmp/bad/gate" ] || { echo "install.sh left a binary behind"; exit 1; }
cat "$tmp/err"

echo "== .ci/release-pin.sh on a copy"
mkdir -p "$tmp/pin/setup"
cp action.yml "$tmp/pin/"
cp setup/action.yml "$tmp/pin/setup/"
sh .ci/release-pin.sh v9.8.7 "$tmp/pin"
grep -qx "  image: docker://ghcr.io/nsys-gate/gate:v9.8.7" "$tmp/pin/action.yml"
grep -qx "    default: v9.8.7" "$tmp/pin/setup/action.yml"
