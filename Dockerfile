# The production image holds the product alone (src/): api (default), worker, all-in-one or reconcile.
#   docker build -t txflow .
#   docker run txflow worker
#   docker run txflow reconcile --since 2026-12-01T00:00:00Z
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

# The mock needs the product's pieces it imports (src/) and nothing but production dependencies.
FROM deps AS mock-build
COPY tools/mock ./tools/mock
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim AS mock
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
COPY --from=mock-build --chown=root:root /app/package.json ./
COPY --from=mock-build --chown=root:root /app/node_modules ./node_modules
COPY --from=mock-build --chown=root:root /app/dist ./dist
USER node
EXPOSE 8080
ENTRYPOINT ["node", "dist/tools/mock/main.js"]

# The default target: the last stage.
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The API's test page (GET / in a browser) is read from the source tree at start-up; tsc copies no .html.
COPY --from=build --chown=root:root /app/src/api/test-page ./src/api/test-page
# Files owned by root, process run as `node`: the app cannot rewrite its own code.
USER node
EXPOSE 3000
# `sh -c` with the command as $0: api, worker, all-in-one or reconcile (its arguments follow); node then replaces
# the shell (exec), so it gets the stop signal itself (compose runs it under an init, see docker-compose.yml).
# The API's, the worker's and the all-in-one's V8 flags and environment defaults are those of
# tools/stack/node-component.ts (NODE_FLAGS, NODE_ENV_DEFAULTS); a value given with `docker run -e` wins.
ENTRYPOINT ["/bin/sh", "-c", "case \"$0\" in api|worker|all-in-one) MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} exec node --max-old-space-size=128 --max-semi-space-size=4 \"dist/src/$0/main.js\" ;; reconcile) exec node dist/src/reconcile/main.js \"$@\" ;; *) echo \"usage: api | worker | all-in-one | reconcile [options] (got: $0)\" >&2; exit 64 ;; esac"]
CMD ["api"]
