# Pinned to an exact Node.js release, so that a rebuild does not change the runtime underneath.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build stage: native modules (better-sqlite3) need a compiler; compile TypeScript and bundle the
# web client into dist/web/ (npm run build; esbuild and Preact are development dependencies), then
# drop the development dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the compiled server, operations commands and web client (dist/), their production
# dependencies, and the files they read at run time: the contract and the password list.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=/data/signal-server.sqlite \
    SHUTDOWN_GRACE_PERIOD=10
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json /app/openapi.yaml ./
COPY --from=build /app/lib/common-passwords.txt ./lib/common-passwords.txt
# The default SQLite database lives on the volume, owned by the unprivileged user the server runs as.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8000
# Slim images have no curl: Node itself asks the liveness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# docker stop sends SIGTERM: the server drains for SHUTDOWN_GRACE_PERIOD seconds; give it longer
# than that before SIGKILL (docker stop -t, compose stop_grace_period, terminationGracePeriodSeconds).
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
