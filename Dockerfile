# The taskwire server and CLI as a container image.
#   docker build -t taskwire .
#   docker run -d -p 7070:7070 -v taskwire-data:/data --name taskwire taskwire
# SQLite lives in the volume at /data (TASKWIRE_HOME); TASKWIRE_DATABASE_URL=postgresql://…
# selects PostgreSQL instead. The server runs as the unprivileged user `node`.

# 1. Build: compile the TypeScript, build the web UI into the server package (ui-dist),
#    and pack the three packages as npm would publish them.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# Scripts off: only the compilers (tsc, Vite) are needed here, and better-sqlite3 is built in stage 2.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -b proto-ts sdk-ts server \
 && npm run build -w ui \
 && npm pack --workspace proto-ts --workspace sdk-ts --workspace server --pack-destination /packs

# 2. Install the packed packages; better-sqlite3 compiles against this Node's headers.
FROM node:20-bookworm-slim AS install
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /packs /packs
RUN echo '{"name":"taskwire-server-image","private":true}' > package.json \
 && npm_config_nodedir=/usr/local npm install --omit=dev --no-audit --no-fund /packs/*.tgz \
 && npm cache clean --force

# 3. Run: no compilers, no sources, not root.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TASKWIRE_HOME=/data \
    TASKWIRE_SERVER_HOST=0.0.0.0 \
    TASKWIRE_SERVER_PORT=7070
COPY --from=install /app /app
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 7070
# /healthz answers 200 "ok", or 503 with the reason once the database file is gone.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TASKWIRE_SERVER_PORT || 7070) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/@taskwire/server/bin/taskwire.js"]
CMD ["server", "start"]
