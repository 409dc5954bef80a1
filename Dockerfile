# IFRS 9 ECL workspace. `docker build -t ifrs9 .`, then the run server
# (`deno task serve`, the default command; port 8080, health-checked below):
#   docker run -p 8080:8080 -e IFRS9_JWT_SECRET=$(openssl rand -hex 32) ifrs9
# Without IFRS9_JWT_SECRET the server refuses to start (exit 2, naming the
# variable); with IFRS9_AUTH=disabled it listens on the container's
# 127.0.0.1 only unless IFRS9_HOST=0.0.0.0 is given too. Run folders go to
# /app/data/runs: mount a volume there (`-v ifrs9-runs:/app/data/runs`) to
# keep them and the job registry across containers.
# Other commands replace the default one:
#   docker run --rm ifrs9 deno task demo   # the demo on the sample book
#   docker run --rm ifrs9 deno task test   # every test
#
# The system packages are exactly those of lib/setup/requirements.ts
# (SYSTEM_PACKAGES), installed the way the setup step installs them, so
# `deno task setup` inside the image finds everything present and only
# registers the Deno Jupyter kernel (for the image's user). This file cannot
# be built on the development machines (no Docker engine there).
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive

# Node.js and npm from Debian carry Deno; the rest is the notebook door
# (headless Jupyter), the report's browser check and promtool (Debian's
# prometheus) for the monitoring checks.
RUN apt-get update \
 && apt-get install -y nodejs npm ca-certificates \
 && apt-get install -y python3 jupyter-nbconvert jupyter-client python3-nbclient chromium prometheus \
 && rm -rf /var/lib/apt/lists/*

# Deno on the PATH, fetched once at build time so the container starts
# offline-ready. The npm package's install step puts the native binary in
# place of its JavaScript launcher, so `deno` is Deno itself: no npx or
# Node process stands between it and the signals the container gets.
RUN npm install -g deno@2.9.6 && deno --version

# Not root: the image runs as `ifrs9`, who owns /app (its data/ folder
# holds the run folders, movements and reports the tasks write) and its
# own Deno cache and Jupyter kernel in /home/ifrs9.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin ifrs9 \
 && install -d -o ifrs9 -g ifrs9 /app
WORKDIR /app
USER ifrs9

# npm dependencies first, from the lock file, so code edits do not
# invalidate that layer.
COPY --chown=ifrs9:ifrs9 deno.json deno.lock ./
RUN deno install --frozen

COPY --chown=ifrs9:ifrs9 . .
# The code version every run's manifest records (code_version): the image
# has no .git (.dockerignore), so it is given at build time:
#   docker build --build-arg IFRS9_CODE_VERSION=$(git rev-parse HEAD) -t ifrs9 .
# Without it the manifests say "unknown", and `deno task merge` refuses
# parts of unknown code (docs/scale_out.md, "One image for every part").
ARG IFRS9_CODE_VERSION=unknown
ENV IFRS9_CODE_VERSION=${IFRS9_CODE_VERSION}
# Everything is installed above: this only registers the Deno Jupyter
# kernel for this user and confirms the rest is present; then the folders
# the server and the tasks write into (.dockerignore leaves them out).
RUN deno task setup \
 && mkdir -p data/runs data/movements data/reports data/tmp

# The run server listens on PORT (default 8080) on every interface
# (IFRS9_HOST, default 0.0.0.0, which includes the loopback the health
# check uses). The health check asks its /healthz with Node's fetch (Node
# is in the image, curl is not; Node starts faster than Deno): healthy on
# 200, unhealthy on anything else or no answer within the timeout. A
# container running the demo or the tests instead of the server reports
# unhealthy, which those short runs ignore.
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "--no-warnings", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

# Exec form: `deno task` is PID 1 and passes SIGTERM and SIGINT on to the
# server (`docker stop` then lets running jobs finish for
# IFRS9_SHUTDOWN_GRACE_S, 30 s by default: give `docker stop -t 60`, or a
# longer stop grace period, so Docker does not kill it first).
CMD ["deno", "task", "serve"]
