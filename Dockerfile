# The production image holds the product alone (src/): api (default), worker, all-in-one or reconcile.
#   docker build -t txflow .
#   docker run txflow worker
#   docker run -v "$PWD/results:/app/results" txflow reconcile --from 2026-12-01T00:00:00Z
# The mock posting service is development tooling (tools/mock); docker compose builds it as its own image:
#   docker build --target mock -t txflow-mock .
# Multi-stage: the build stages have the dev dependencies and the compiler; the runtime stages only the
# production dependencies and the compiled JavaScript, and run as the unprivileged `node` user.
FROM node:20.20.2-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src

# tsc and the prebuilt workflow bundle (dist/workflow-bundle.js), then drop the dev dependencies.
FROM deps AS build
RUN npm run build && npm prune --omit=dev

# The mock needs the product's pieces it imports (src/), the one shared tool file it imports, and nothing but
# production dependencies (test/compose.test.ts checks these copies against the mock's imports).
FROM deps AS mock-build
COPY tools/mock ./tools/mock
COPY tools/shared/random.ts ./tools/shared/random.ts
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim AS mock
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=mock-build --chown=root:root /app/package.json ./
COPY --from=mock-build --chown=root:root /app/node_modules ./node_modules
COPY --from=mock-build --chown=root:root /app/dist ./dist
COPY --chown=root:root scripts/txflow.sh ./scripts/txflow.sh
USER node
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "scripts/txflow.sh", "mock"]

# The default target: the last stage.
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The API's test page (GET / in a browser) is read from the source tree at start-up; tsc copies no .html.
COPY --from=build --chown=root:root /app/src/api/test-page ./src/api/test-page
# The one folder the app writes: reconcile's JSON results (mount a volume there to keep them).
RUN mkdir results && chown node:node results
# Starts each process with its Node/V8 flags and environment defaults (the one place they are written).
COPY --chown=root:root scripts/txflow.sh ./scripts/txflow.sh
# Files owned by root, process run as `node`: the app cannot rewrite its own code.
USER node
EXPOSE 3000
# The command picks the process: api, worker, all-in-one or reconcile (its arguments follow). scripts/txflow.sh
# sets its V8 flags and environment defaults (a value given with `docker run -e` wins) and then replaces itself
# with node (exec), so node gets the stop signal itself (compose runs it under an init, see docker-compose.yml).
ENTRYPOINT ["/bin/sh", "scripts/txflow.sh"]
CMD ["api"]
