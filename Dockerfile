# syntax=docker/dockerfile:1
# One image for every binary (ingress, worker, notifier, seed, loadgen); docker-compose.yml picks the command.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and incremental build across image builds; the binaries are
# copied out in the same step because the target/ cache is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --workspace --bins \
 && mkdir /out \
 && cp target/release/ingress target/release/worker target/release/notifier target/release/seed target/release/loadgen /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin bluewhale
WORKDIR /app
COPY --from=builder /out/ /usr/local/bin/
USER 10001:10001
ENV BW_HTTP_ADDR=0.0.0.0:8080 \
    BW_LOG_FORMAT=json
EXPOSE 8080
CMD ["ingress"]
