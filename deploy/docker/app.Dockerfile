# One image per app, from one Dockerfile: `--build-arg APP=<name>`. The context is the app after
# `pnpm --filter <pkg> deploy --prod` (its dist/ and production node_modules only, trimmed of
# source maps, typings and docs) plus healthcheck.mjs; build-images.sh stages it. The build
# itself (tsc, codegen) never runs in the image: it happened in the workspace, so the image has
# no compiler, no package manager and no dev dependency.
ARG NODE_IMAGE=edge/node:local
FROM ${NODE_IMAGE}
ARG APP
# Which env var holds the port the health check calls, its default, and the HTTP path
# ('' = TCP connect). From deploy/apps.json.
ARG HEALTH_PORT_ENV=PORT
ARG HEALTH_PORT_DEFAULT=8080
ARG HEALTH_PATH=/health
LABEL org.opencontainers.image.title="edge-${APP}" org.opencontainers.image.source="apps/${APP}"
# Files stay owned by root: read-only for the app user.
COPY . /app/
WORKDIR /app
ENV EDGE_APP=${APP} HEALTH_PORT_ENV=${HEALTH_PORT_ENV} HEALTH_PORT_DEFAULT=${HEALTH_PORT_DEFAULT} HEALTH_PATH=${HEALTH_PATH}
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
CMD ["node", "dist/main.js"]
