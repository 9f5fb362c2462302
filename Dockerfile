# AlertCircle as one binary in a slim image.
# Build stage: install dependencies, bundle the dashboard, `deno compile` with the static assets embedded.
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN deno task build && deno run -A scripts/compile.ts /out/alertcircle

# Runtime stage: just the binary, a non-root user and a data folder.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --create-home alertcircle \
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/alertcircle /usr/local/bin/alertcircle
USER alertcircle
WORKDIR /data
ENV HOST=0.0.0.0 PORT=8000 DATA_DIR=/data
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/alertcircle", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/alertcircle"]
