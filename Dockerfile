# One image for every txflow process; the command picks which: api (default), worker, all-in-one or mock.
#   docker build -t txflow .
#   docker run txflow worker
# Multi-stage: the build stage has the dev dependencies and the compiler; the runtime stage only the
# production dependencies and the compiled JavaScript, and runs as the unprivileged `node` user.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc and the prebuilt workflow bundle (dist/workflow-bundle.js), then drop the dev dependencies.
RUN npm run build && npm prune --omit=dev

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
# `sh -c` with the command as $0: api, worker, all-in-one or mock; node then replaces the shell (exec), so it
# gets the stop signal itself (compose runs it under an init, see docker-compose.yml).
# The API's, the worker's and the all-in-one's V8 flags and environment defaults are those of
# src/stack/node-component.ts (NODE_FLAGS, NODE_ENV_DEFAULTS); a value given with `docker run -e` wins.
ENTRYPOINT ["/bin/sh", "-c", "case \"$0\" in api|worker|all-in-one) MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} exec node --max-old-space-size=128 --max-semi-space-size=4 \"dist/src/$0/main.js\" ;; mock) exec node dist/src/mock/main.js ;; *) echo \"usage: api | worker | all-in-one | mock (got: $0)\" >&2; exit 64 ;; esac"]
CMD ["api"]
