# Tasa as one image for every role (`tasa ingest`, `tasa serve`, `tasa worker`, `tasa up`, and the
# one-off commands): deploy/compose.yaml runs it. Build: docker build -t tasa .
#
# Build stage: `npm ci` installs from the lockfile and its postinstall applies patches/ and builds
# the CLI into dist/cli (as on a developer's machine); then the dashboard is built into dist/web
# and the dev dependencies are dropped.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
COPY tsconfig.json vite.config.ts research.config.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
  # postinstall only warns when the CLI build fails (tasa then runs src/ through tsx): here it must not.
  && test -f dist/cli/main.js \
  && npm run build:web \
  && test -f dist/web/index.html \
  && npm prune --omit=dev --no-audit --no-fund --loglevel=error

# Runtime stage: the production dependencies, the built CLI and dashboard, and src/ (the CLI build
# reads its migrations and data files from there, and bin/tasa.js checks it against the build).
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TASA_HTTP_HOST=0.0.0.0 \
    TASA_HTTP_PORT=8080 \
    TASA_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/research.config.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/src ./src
# pg_dump and pg_restore for `tasa backup` / `tasa restore` against PostgreSQL (bookworm's client is 15).
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client \
  && rm -rf /var/lib/apt/lists/*
# The image's `node` user (uid 1000) owns only the data directory: spool, archive, embedded store.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# The API's readiness probe; roles without the API (ingest, worker) turn it off in compose.yaml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.TASA_HTTP_PORT || '8080') + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "bin/tasa.js"]
CMD ["up"]
