# Build stage: compile TypeScript and keep only production dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: the compiled server, its dependencies and the contract, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 DATABASE_URL=/data/signal-server.sqlite
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json /app/openapi.yaml ./
COPY --from=build /app/lib/common-passwords.txt ./lib/common-passwords.txt
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8000
CMD ["node", "dist/server.js"]
