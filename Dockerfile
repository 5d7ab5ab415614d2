# The Meridian worker and CLI. Cluster credentials come from a mounted kubeconfig, never from the image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# Helm renders release templates on the worker.
COPY --from=alpine/helm:3.21.4 /usr/bin/helm /usr/local/bin/helm
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY temporal ./temporal
COPY examples ./examples
USER node
ENTRYPOINT ["node", "bin/meridian"]
