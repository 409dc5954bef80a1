# IFRS 9 ECL workspace: `docker build -t ifrs9 . && docker run --rm ifrs9`
# runs the demo (`deno task demo`); `docker run --rm ifrs9 npx -y
# deno@2.9.6 task test` runs every test; the run server (`deno task serve`,
# port 8080, health-checked below):
#   docker run -p 8080:8080 -e IFRS9_JWT_SECRET=... ifrs9 \
#     npx -y deno@2.9.6 task serve
#
# The system packages are exactly those of lib/setup/requirements.ts
# (SYSTEM_PACKAGES), installed the way the setup step installs them, so
# `deno task setup` inside the image finds everything present and only
# checks the Deno Jupyter kernel registered below. This file cannot be
# built on the development machines (no Docker engine there).
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive

# Node.js and npm from Debian carry Deno (`npx -y deno@2.9.6`); the rest is
# the notebook door (headless Jupyter), the report's browser check and
# promtool (Debian's prometheus) for the monitoring checks.
RUN apt-get update \
 && apt-get install -y nodejs npm ca-certificates \
 && apt-get install -y python3 jupyter-nbconvert jupyter-client python3-nbclient chromium prometheus \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Fetch Deno once at build time so the container starts offline-ready.
RUN npx -y deno@2.9.6 --version

# npm dependencies first, from the lock file, so code edits do not
# invalidate that layer.
COPY deno.json deno.lock ./
RUN npx -y deno@2.9.6 install --frozen

COPY . .
# Everything is installed above: this only registers the Deno Jupyter
# kernel for the npx-cached Deno binary and confirms the rest is present.
RUN npx -y deno@2.9.6 task setup

# The run server listens on PORT (default 8080) on every interface
# (IFRS9_HOST, default 0.0.0.0, which includes the loopback the health
# check uses). The health check asks its /healthz with Node's fetch (Node
# is in the image, curl is not; Node starts faster than `npx deno`):
# healthy on 200, unhealthy on anything else or no answer within the
# timeout. A container running the demo or the tests instead of the
# server reports unhealthy, which those short runs ignore.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "--no-warnings", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

CMD ["npx", "-y", "deno@2.9.6", "task", "demo"]
