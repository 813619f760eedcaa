# One image for every txflow process; the command picks which: api (default), worker or mock.
#   docker build -t txflow .
#   docker run txflow dist/src/worker/main.js
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The API's test page (GET / in a browser) is read from the source tree at start-up; tsc copies no .html.
COPY --from=build /app/src/api/test-page ./src/api/test-page
USER node
ENTRYPOINT ["node"]
CMD ["dist/src/api/main.js"]
