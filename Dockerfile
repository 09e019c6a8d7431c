# gate as a Docker container action, built from source: the image that
# `uses: ./` (this repository's CI) and `uses: nsys-gate/gate@main` get. It is
# the small image: the gate binary alone, for the compare and comment modes.
#
# Releases do not build this file at job time: the release workflow pins
# action.yml to the prebuilt ghcr.io/nsys-gate/gate:vX.Y.Z (the same image,
# made by GoReleaser from docker/gate.Dockerfile), so `uses:
# nsys-gate/gate@v1` starts in seconds. docs/action.md, "Releases", says how.
#
# Profiling needs the workload's own stack and nsys, which this image has
# neither of: run gate where the workload lives (setup/action.yml installs
# the binary), or use ghcr.io/nsys-gate/gate-nsys (docker/gate-nsys.Dockerfile).

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/base-debian12

FROM ${GO_IMAGE} AS build
# go.mod may ask for a newer patch release than the image has.
ENV GOTOOLCHAIN=auto CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# `gate version` names the commit and its date: read from the checkout's .git
# (in the build context for that reason; absent when the runner builds a
# downloaded action, and then "devel" it is). -buildvcs=false: the context
# leaves out files git tracks, so Go's own stamp would call every build
# modified.
# cgo stays on: go-nvml loads libnvidia-ml through dlopen at run time.
RUN commit=$(git rev-parse HEAD 2>/dev/null || true) \
 && date=$(git log -1 --format=%cI 2>/dev/null || true) \
 && CGO_CFLAGS=-Wno-deprecated-declarations go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/nsys-gate/gate/gate.Version=${VERSION} -X github.com/nsys-gate/gate/gate.Commit=${commit} -X github.com/nsys-gate/gate/gate.Date=${date}" \
      -o /out/gate ./cmd/gate \
 && /out/gate version

# distroless/base: glibc for the cgo build, CA certificates for the GitHub
# API, and root, as Docker actions must run (no USER).
FROM ${RUNTIME_IMAGE}
COPY --from=build /out/gate /usr/local/bin/gate
ENTRYPOINT ["/usr/local/bin/gate", "action"]
