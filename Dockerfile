# FluxiQ PIX: one binary (bun build --compile) that runs any service by sub-command.
#   docker build -t fluxiq .
#   docker run --rm -p 4003:4003 -e BIND_HOST=0.0.0.0 -e DATABASE_URL=... fluxiq serve settlement

FROM oven/bun:1.4 AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production
COPY tsconfig.json bunfig.toml ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
COPY sql ./sql
# cli/build.ts: one binary with every service, the signer worker and sql/ embedded (migrations need no files beside it).
RUN bun cli/main.ts build /out/fluxiq

FROM debian:bookworm-slim AS runtime
# libssl3: the XML signer calls OpenSSL's libcrypto through bun:ffi (about twice Bun's built-in RSA
# speed); curl: the health check.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates curl openssl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app fluxiq
WORKDIR /app
COPY --from=build /out/fluxiq /app/fluxiq
USER fluxiq
ENV BIND_HOST=0.0.0.0 PKI_DIR=/app/pki
EXPOSE 4001 4002 4003
# SERVICE_PORT is the port of the service this container runs (4001 dict, 4002 spi, 4003 settlement).
ENV SERVICE_PORT=4003
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${SERVICE_PORT}/health" || exit 1
ENTRYPOINT ["/app/fluxiq"]
CMD ["serve", "settlement"]
