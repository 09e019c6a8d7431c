#!/bin/sh
# Pins the action files of a release to what that release publishes:
#   action.yml        image: Dockerfile  ->  image: docker://ghcr.io/nsys-gate/gate:vX.Y.Z
#   setup/action.yml  default: latest    ->  default: vX.Y.Z   (the version input)
# so that `uses: nsys-gate/gate@vX` pulls the prebuilt image instead of
# building the Dockerfile in every job, and `uses: nsys-gate/gate/setup@vX`
# installs the binary of the same release. main keeps the unpinned files.
#
# The release workflow (.github/workflows/release.yml) runs this on the tagged
# commit, commits the result and points the tags at that commit;
# .ci/release.sh runs it on a copy to check that both lines are still there.
#
# Usage: .ci/release-pin.sh vX.Y.Z [DIR]   (DIR: the checkout, default .)
set -eu

tag=${1:-}
dir=${2:-.}
case $tag in
v[0-9]*.[0-9]*.[0-9]*) ;;
*)
	echo "usage: $0 vX.Y.Z [DIR]" >&2
	exit 2
	;;
esac

# pin FILE FROM TO replaces the one line FROM with TO, or fails.
pin() {
	n=$(grep -cx "$2" "$1" || true)
	if [ "$n" != 1 ]; then
		echo "$1: want exactly one line '$2' to pin, found $n" >&2
		exit 1
	fi
	sed -i "s|^$2\$|$3|" "$1"
}

pin "$dir/action.yml" "  image: Dockerfile" "  image: docker://ghcr.io/nsys-gate/gate:$tag"
pin "$dir/setup/action.yml" "    default: latest" "    default: $tag"
echo "pinned action.yml and setup/action.yml to $tag"
