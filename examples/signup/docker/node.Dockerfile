# The Node processes of the signup flow: the taskwire server, the API, the stand-ins and the
# TypeScript workers run from this one image, each with its own `command` (compose.yaml).
# Built from the repository's root: the example compiles with the rest of the monorepo.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary fits the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci && npx tsc -b

FROM node:20-bookworm-slim
COPY --from=build /app /app
# `taskwire` on the PATH is the server's CLI (node_modules/.bin/taskwire).
ENV PATH="/app/node_modules/.bin:${PATH}"
# The commands in compose.yaml are relative to examples/, as in services.ts.
WORKDIR /app/examples
