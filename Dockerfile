# IFRS 9 ECL workspace: `docker build -t ifrs9 . && docker run --rm ifrs9`
# runs the demo (`deno task demo`); `docker run --rm ifrs9 npx -y
# deno@2.9.6 task test` runs every test.
#
# The system packages are exactly those of lib/setup/requirements.ts
# (SYSTEM_PACKAGES), installed the way the setup step installs them, so
# `deno task setup` inside the image finds everything present and only
# checks the Deno Jupyter kernel registered below. This file cannot be
# built on the development machines (no Docker engine there).
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive

# Node.js and npm from Debian carry Deno (`npx -y deno@2.9.6`); the rest is
# the notebook door (headless Jupyter) and the report's browser check.
RUN apt-get update \
 && apt-get install -y nodejs npm ca-certificates \
 && apt-get install -y python3 jupyter-nbconvert jupyter-client python3-nbclient chromium \
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

CMD ["npx", "-y", "deno@2.9.6", "task", "demo"]
