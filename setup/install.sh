#!/bin/sh
# Installs a released gate binary for this machine, checks it against the
# release's checksums.txt, and puts it on PATH for the job's later steps. The
# setup action (setup/action.yml) runs it; it also works by hand:
#
#   GATE_VERSION=v1.2.3 GATE_INSTALL_DIR=$HOME/.local/bin sh setup/install.sh
#
# Environment:
#   GATE_VERSION       vX.Y.Z (or X.Y.Z), or latest (default)
#   GATE_INSTALL_DIR   where the binary goes (default $RUNNER_TEMP/gate-X.Y.Z)
#   GATE_DOWNLOAD_URL  releases base URL (default https://github.com/nsys-gate/gate/releases);
#                      assets are read from $GATE_DOWNLOAD_URL/download/vX.Y.Z/
#   GITHUB_PATH, GITHUB_OUTPUT  set by the runner; absent, the result is printed
#
# Needs POSIX sh, tar, one of curl / wget / python3, and one of sha256sum /
# shasum / python3. The archive names follow .goreleaser.yaml.
set -eu

fail() {
	echo "::error title=gate setup::$*" >&2
	exit 1
}

base=${GATE_DOWNLOAD_URL:-https://github.com/nsys-gate/gate/releases}
base=${base%/}
version=${GATE_VERSION:-latest}

# fetch URL FILE downloads URL to FILE with whichever client the image has.
fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 3 -o "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1"
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
	else
		fail "no curl, wget or python3 to download gate with: install one, or COPY the binary from ghcr.io/nsys-gate/gate (docs/action.md)"
	fi
}

# resolve_latest prints the tag that BASE/latest redirects to.
resolve_latest() {
	if command -v curl >/dev/null 2>&1; then
		url=$(curl -fsSL --retry 3 -o /dev/null -w '%{url_effective}' "$base/latest") || fail "could not reach $base/latest"
	elif command -v python3 >/dev/null 2>&1; then
		url=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).geturl())' "$base/latest") || fail "could not reach $base/latest"
	else
		fail "version: latest needs curl or python3 to follow $base/latest; pass a version (v1.2.3)"
	fi
	tag=${url##*/}
	case $tag in
	v[0-9]*) echo "$tag" ;;
	*) fail "could not tell the newest release from $base/latest (it led to $url); pass a version (v1.2.3)" ;;
	esac
}

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
	else
		fail "no sha256sum, shasum or python3 to check the download with"
	fi
}

[ "$(uname -s)" = Linux ] || fail "gate releases are built for Linux; on $(uname -s) build it from source (go install github.com/nsys-gate/gate/cmd/gate@latest)"
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) fail "no gate release for $(uname -m); build it from source (go install github.com/nsys-gate/gate/cmd/gate@latest)" ;;
esac

if [ "$version" = latest ]; then
	version=$(resolve_latest)
fi
case $version in
v[0-9]*.[0-9]*.[0-9]* | [0-9]*.[0-9]*.[0-9]*) ;;
*) fail "version: want vX.Y.Z or latest, got \"$version\"" ;;
esac
number=${version#v}
tag=v$number
archive=gate_${number}_linux_${arch}.tar.gz

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "gate setup: downloading $base/download/$tag/$archive"
fetch "$base/download/$tag/$archive" "$tmp/$archive" || fail "could not download $base/download/$tag/$archive (is $tag a release?)"
fetch "$base/download/$tag/checksums.txt" "$tmp/checksums.txt" || fail "could not download $base/download/$tag/checksums.txt"

want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")
[ -n "$want" ] || fail "$tag's checksums.txt has no line for $archive"
got=$(sha256 "$tmp/$archive")
[ "$got" = "$want" ] || fail "$archive: SHA-256 is $got, $tag's checksums.txt says $want; not installing it"

dir=${GATE_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gate-$number}
mkdir -p "$dir"
tar -xzf "$tmp/$archive" -C "$dir" gate || fail "$archive: no gate binary in it"
# The amd64 build links glibc (cgo, for NVML); an older one fails right here.
"$dir/gate" version || fail "$dir/gate does not run here; the linux/amd64 build needs glibc 2.34 or newer (Ubuntu 22.04, Debian 12, RHEL 9)"

if [ -n "${GITHUB_PATH:-}" ]; then
	echo "$dir" >>"$GITHUB_PATH"
else
	echo "gate setup: add $dir to PATH"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
	{
		echo "version=$tag"
		echo "path=$dir/gate"
	} >>"$GITHUB_OUTPUT"
fi
echo "gate setup: installed $tag ($got) as $dir/gate"
