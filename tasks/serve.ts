/**
 * `deno task serve [--port N] [--host ADDR]`: the run server. Health and
 * readiness probes, Prometheus metrics, authenticated routes that start a
 * run or a movement and follow it, the OpenAPI document and the MCP door
 * (`createApp`, lib/server/app.ts); runs execute in child processes, a
 * bounded number at once (`createJobQueue`), and every job is kept in
 * `<IFRS9_OUT_DIR>/.server/jobs.json` (`createJobRegistry`).
 *
 * Configured by the environment (lib/server/config.ts: `PORT`,
 * `IFRS9_HOST`, `IFRS9_DATA_ROOTS`, `IFRS9_OUT_DIR`, `IFRS9_MOVEMENT_DIR`,
 * `IFRS9_RULES`, `IFRS9_JWT_SECRET` or `IFRS9_AUTH=disabled`,
 * `IFRS9_MAX_CONCURRENT_RUNS`, `IFRS9_MAX_QUEUED_RUNS`,
 * `IFRS9_SHUTDOWN_GRACE_S`, `IFRS9_RATE_LIMIT_PER_MINUTE`); `--port` and
 * `--host` override `PORT` and `IFRS9_HOST`. With `IFRS9_AUTH=disabled`
 * and neither `--host` nor `IFRS9_HOST`, it listens on 127.0.0.1 only (and
 * says so in the `auth_disabled` line).
 *
 * Logs one JSON object per line on stdout: `listening` with the port once
 * the socket is open (with `--port 0`, the port the system chose), and
 * before it `auth_disabled`, on every start, when authentication is off.
 *
 * On SIGTERM or SIGINT: stops accepting connections, lets running jobs
 * finish for up to `IFRS9_SHUTDOWN_GRACE_S` seconds, stops the others
 * (they and the waiting ones end `interrupted`), and exits 0. A second
 * signal exits at once (130 for SIGINT, 143 for SIGTERM); so does a
 * shutdown that hangs past the grace period and 30 s (exit 70). Jobs cut
 * short that way are listed `interrupted` at the next start.
 *
 * Exit codes (`lib/errors.ts`): 0 after a shutdown; 2 a bad flag or
 * environment variable (the message names every one), or a port that
 * cannot be used; 3 the job registry cannot be read or written; 70 a bug.
 *
 * @module
 */
import { number, TaskCommand } from "./_args.ts";
import {
  createApp,
  createJobQueue,
  createJobRegistry,
  createJsonLogger,
  createServerMetrics,
  listenConfigFromEnv,
  serverConfigFromEnv,
  UserError,
} from "../lib/mod.ts";

/** Seconds a shutdown may take beyond the grace period before a hard exit. */
const HARD_EXIT_AFTER_GRACE_S = 30;

export const command = new TaskCommand({
  command: "deno task serve",
  synopsis: "[--port N] [--host ADDR]",
  flags:
    `  --port N          TCP port (default: PORT, else 8080; 0 lets the system choose)
  --host ADDR       interface to listen on (default: IFRS9_HOST, else 0.0.0.0;
                    127.0.0.1 when IFRS9_AUTH=disabled)
  environment       IFRS9_JWT_SECRET (required, at least 32 bytes) or
                    IFRS9_AUTH=disabled; IFRS9_DATA_ROOTS, IFRS9_RULES_ROOTS,
                    IFRS9_OUT_DIR, IFRS9_MOVEMENT_DIR, IFRS9_RULES,
                    IFRS9_MAX_CONCURRENT_RUNS, IFRS9_MAX_QUEUED_RUNS,
                    IFRS9_SHUTDOWN_GRACE_S, IFRS9_RATE_LIMIT_PER_MINUTE
                    (defaults and limits: lib/server/config.ts)`,
  options: {
    port: { type: "string" },
    host: { type: "string" },
  },
});

/** Runs `deno task serve` with `args` until a signal stops it; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const config = serverConfigFromEnv();
    const listen = listenConfigFromEnv();
    const port = number("port", values.port, { whole: true, min: 0 }) ??
      listen.port;
    if (port > 65_535) {
      throw new UserError(
        "usage",
        `--port must be a whole number from 0 to 65535, got ${values.port}`,
      );
    }
    const hostname = values.host ?? listen.hostname;
    const loopbackOnly = values.host === undefined && listen.hostDefaulted &&
      config.jwtSecret === null;

    const logger = createJsonLogger();
    if (config.jwtSecret === null) {
      logger.warn("auth_disabled", {
        message:
          "AUTHENTICATION IS DISABLED (IFRS9_AUTH=disabled): anyone who reaches this port can start runs and read their results. Set IFRS9_JWT_SECRET and unset IFRS9_AUTH to turn it on.",
        hostname,
        ...(loopbackOnly
          ? {
            listen:
              `Listening on ${hostname} (this machine) only, as authentication is disabled; give --host or IFRS9_HOST to listen on another interface.`,
          }
          : {}),
      });
    }
    const registry = await createJobRegistry(config.outDir, { logger });
    const metrics = createServerMetrics();
    // The metrics start from the registry (oldest first), so the last
    // run's figures survive a restart and the job counters do not fall.
    for (const record of registry.list().reverse()) metrics.observeJob(record);
    const queue = createJobQueue({ config, registry, metrics, logger });
    metrics.setQueueDepth(queue.depth());
    const app = createApp({ config, registry, queue, metrics, logger });

    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        port,
        hostname,
        onListen: (addr) =>
          logger.info("listening", {
            port: addr.port,
            hostname: addr.hostname,
            auth: config.jwtSecret === null ? "disabled" : "enabled",
            outDir: config.outDir,
            maxConcurrentRuns: config.maxConcurrentRuns,
            maxQueuedRuns: config.maxQueuedRuns,
          }),
      }, app.fetch);
    } catch (e) {
      if (
        e instanceof Deno.errors.AddrInUse ||
        e instanceof Deno.errors.PermissionDenied ||
        e instanceof Deno.errors.AddrNotAvailable
      ) {
        throw new UserError(
          "usage",
          `Cannot listen on ${hostname}:${port}: ${
            (e as Error).message
          } (choose another --port or PORT, or --host or IFRS9_HOST)`,
          { cause: e },
        );
      }
      throw e;
    }

    const { promise: stopped, resolve: stop } = Promise.withResolvers<
      Deno.Signal
    >();
    const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
    let stopping = false;
    const onSignal = (signal: Deno.Signal) => () => {
      if (stopping) {
        logger.error("shutdown_forced", { signal });
        Deno.exit(signal === "SIGINT" ? 130 : 143);
      }
      stopping = true;
      stop(signal);
    };
    const listeners = signals.map((s) => [s, onSignal(s)] as const);
    for (const [s, f] of listeners) Deno.addSignalListener(s, f);

    const signal = await stopped;
    const grace = config.shutdownGraceSeconds;
    logger.info("shutdown", { signal, graceSeconds: grace, ...queue.depth() });
    const hardExit = setTimeout(() => {
      logger.error("shutdown_timeout", {
        seconds: grace + HARD_EXIT_AFTER_GRACE_S,
      });
      Deno.exit(70);
    }, (grace + HARD_EXIT_AFTER_GRACE_S) * 1000);
    try {
      // New connections are refused at once; requests in flight finish.
      await Promise.all([server.shutdown(), queue.shutdown(grace)]);
    } finally {
      clearTimeout(hardExit);
      for (const [s, f] of listeners) Deno.removeSignalListener(s, f);
    }
    logger.info("stopped", { signal });
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
