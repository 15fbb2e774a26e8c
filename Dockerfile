# One image for the API and the worker; the command picks the process.
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY patches ./patches
RUN bun install --frozen-lockfile --production

# Building the dashboard needs the dev dependencies (Vite); the runtime image does not.
FROM deps AS build
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build:dashboard

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps --chown=bun:bun /app/node_modules ./node_modules
COPY --from=build --chown=bun:bun /app/dashboard/dist ./dashboard/dist
COPY --chown=bun:bun . .
# Where the API keeps a generated admin password. A named volume mounted here starts as a copy of
# this directory, owner and mode included, so the bun user can write to it.
RUN install -d -o bun -g bun -m 700 /app/.data
# The image's non-root user; nothing in the app needs root.
USER bun
EXPOSE 4000
CMD ["bun", "server/index.ts"]
