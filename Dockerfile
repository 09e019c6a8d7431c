# gate as a Docker container action: the gate binary plus the Nsight Systems
# CLI on a CUDA base image. GitHub builds this file for `uses: nsys-gate/gate@v1`
# steps; the project's CI builds it on every change (.github/workflows/ci.yml).
#
# The GPU is not passed to action containers by the runner (no --gpus): the
# host's Docker needs "default-runtime": "nvidia", and the image's
# NVIDIA_VISIBLE_DEVICES tells that runtime which devices to mount. See
# docs/action.md, "Runner setup".

ARG GO_IMAGE=golang:1.26-bookworm
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-base-ubuntu24.04

FROM ${GO_IMAGE} AS build
# go.mod may ask for a newer patch release than the image has.
ENV GOTOOLCHAIN=auto CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# cgo stays on: go-nvml loads libnvidia-ml through dlopen at run time.
RUN CGO_CFLAGS=-Wno-deprecated-declarations go build -trimpath \
      -ldflags "-s -w -X github.com/nsys-gate/gate/gate.Version=${VERSION}" \
      -o /out/gate ./cmd/gate \
 && /out/gate version

FROM ${CUDA_IMAGE}
# The CUDA base images come with NVIDIA's CUDA apt repository configured.
# cuda-nsight-systems-<major>-<minor> installs the Nsight Systems release that
# matches the CUDA version; override for another one. libdw1 and libcap2-bin
# are libraries nsys loads that the slim base image lacks.
ARG NSYS_PACKAGE=cuda-nsight-systems-13-0
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ${NSYS_PACKAGE} libdw1 libcap2-bin ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && if ! command -v nsys >/dev/null; then \
      ln -s "$(ls -d /opt/nvidia/nsight-systems/*/bin/nsys | sort -V | tail -n 1)" /usr/local/bin/nsys; \
    fi \
 && nsys --version
COPY --from=build /out/gate /usr/local/bin/gate
# compute for CUDA tracing, utility for NVML (gate's GPU fingerprint).
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
# Docker actions run as root (no USER) with the workspace mounted at run time.
ENTRYPOINT ["/usr/local/bin/gate", "action"]
