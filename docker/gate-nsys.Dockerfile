# gate with the Nsight Systems CLI on a CUDA base: a job container or a base
# image for workloads that need nothing but CUDA (a compiled benchmark, a
# stand-in server). A Python/vLLM workload brings its own image instead: copy
# gate into it (docker/gate.Dockerfile) and install nsys there with the same
# apt line as below.
#
# GoReleaser builds it from the amd64 binary it built (.goreleaser.yaml,
# dockers_v2); the context holds it as linux/amd64/gate.
#
# The GPU is not passed to Docker action containers by the runner (no
# --gpus): the host's Docker needs "default-runtime": "nvidia", and the image's
# NVIDIA_VISIBLE_DEVICES tells that runtime which devices to mount. A job
# container gets them from `options: --gpus all`. See docs/action.md.
ARG CUDA_IMAGE=nvidia/cuda:13.0.0-base-ubuntu24.04
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
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/gate /usr/local/bin/gate
# compute for CUDA tracing, utility for NVML (gate's GPU fingerprint).
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
ENTRYPOINT ["/usr/local/bin/gate", "action"]
