# One image, three roles: the command picks which binary runs.
#
#   docker run -p 8083:8083 sluice                       the coordinator (default)
#   docker run sluice coordinator standalone w.properties c.properties
#   docker run -e SLUICE_COORDINATOR_URL=http://coordinator:8083 sluice source-poll
#   docker run -e SLUICE_COORDINATOR_URL=http://coordinator:8083 sluice sink-batch
#
# The binaries are static (CGO_ENABLED=0), so the runtime image is distroless
# static: no shell, no package manager, user nonroot (65532). Build for
# another architecture with docker buildx build --platform linux/arm64 .
#
# Both base images are pinned by digest, the multi-platform index digest of
# the tag named next to it: a tag can be moved to other content, a digest
# cannot, so a rebuild of a commit gets the same toolchain and runtime
# files. There is no "# syntax=" line, so no frontend image is pulled
# either (BuildKit's built-in frontend reads this file). To move to newer
# images, take each tag's current index digest
#   crane digest golang:1.26
#   crane digest gcr.io/distroless/static-debian12:nonroot
# (or docker buildx imagetools inspect <tag>) and replace it here;
# deploy/image_test.go fails on any FROM without @sha256:.

FROM --platform=$BUILDPLATFORM golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647 AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces the Kafka client with the patched copy in third_party/sarama
# (see its README.md); go mod download reads that module's go.mod.
COPY third_party/sarama/go.mod third_party/sarama/
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ENV CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH
# deploy/build_test.go runs these three lines for linux/arm64 and linux/amd64.
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/coordinator ./coordinator/cmd/coordinator
RUN go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o /out/source-poll ./functions/source-poll
RUN go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o /out/sink-batch ./functions/sink-batch

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/coordinator /out/source-poll /out/sink-batch /usr/local/bin/
USER nonroot:nonroot
# Dev mode (no SLUICE_BOOTSTRAP_SERVERS) keeps its embedded broker's data
# under ./data; nonroot owns its home.
WORKDIR /home/nonroot
# In a container the REST API must listen on every interface (the
# coordinator's dev mode would otherwise stay on loopback).
ENV SLUICE_REST_LISTENER=:8083
EXPOSE 8083
# For the coordinator role: it checks GET /health on its own listener.
# Worker roles have no HTTP port: run them with --no-healthcheck. ECS ignores
# image health checks; template.yaml declares the same command.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/coordinator", "--health-check"]
CMD ["coordinator"]
