# The small image: the released gate binary alone, for the Docker action's
# compare and comment modes (no GPU, no nsys, pulled in seconds on
# ubuntu-latest) and as the source to `COPY --from=` into a serving image:
#
#   COPY --from=ghcr.io/nsys-gate/gate:v1 /usr/local/bin/gate /usr/local/bin/gate
#
# GoReleaser builds it from the binaries it built (.goreleaser.yaml,
# dockers_v2): the context holds them as linux/amd64/gate and
# linux/arm64/gate. The repository's root Dockerfile builds the same image
# from source for the action on main.
#
# distroless/base has glibc (the amd64 build uses cgo for NVML) and CA
# certificates, and runs as root, as Docker actions must.
FROM gcr.io/distroless/base-debian12
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/gate /usr/local/bin/gate
ENTRYPOINT ["/usr/local/bin/gate", "action"]
