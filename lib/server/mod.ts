/**
 * The run server (issue 11): a Hono app over a job queue that runs
 * `runPortfolio` and the movement in child processes, a registry of jobs
 * persisted in the output folder, Prometheus metrics, structured logs and
 * a Model Context Protocol door. `deno task serve` puts the parts
 * together; tests build the app over fakes of the parts.
 *
 * | what | file |
 * |---|---|
 * | the contract between the parts: config, job records, registry, queue, metrics, logger | `types.ts` |
 * | the configuration from the environment | `config.ts` |
 * | the HTTP app: middleware, handlers, the error handler | `app.ts` |
 * | the routes' schemas and OpenAPI description, the docs page | `routes.ts` |
 * | the request fields both doors check the same way (ids, paths) | `fields.ts` |
 * | bearer tokens (HS256), scopes, the rate limit, minting tokens | `auth.ts` |
 * | the paths a request may name (data roots, rules roots, symlinks) | `paths.ts` |
 * | JSON log lines, the request log | `log.ts` |
 * | the job queue (child processes, bounded) | `queue.ts`, `job_child.ts` |
 * | the job registry, persisted | `registry.ts` |
 * | Prometheus metrics | `metrics.ts` |
 * | the MCP door and the workings of its figures (explained in a worker, one at a time) | `mcp.ts`, `workings.ts`, `explainer.ts`, `explainer_worker.ts` |
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp, createJsonLogger, createServerMetrics } from "./mod.ts";
 * import type { ServerDeps } from "./mod.ts";
 *
 * const deps = {
 *   config: { jwtSecret: null, rateLimitPerMinute: 60 },
 *   logger: createJsonLogger(() => {}),
 *   metrics: createServerMetrics({ defaultMetrics: false }),
 * } as unknown as ServerDeps;
 * const res = await createApp(deps).request("/healthz");
 * assert.equal(res.status, 200);
 * // Auth turned off on purpose shows on every response.
 * assert.equal(res.headers.get("X-IFRS9-Auth"), "disabled");
 * ```
 *
 * @module
 */
export {
  type JobKind,
  type JobQueue,
  type JobRecord,
  JobRefusedError,
  type JobRegistry,
  type JobStatus,
  type LogFields,
  type Logger,
  type MovementRequest,
  type RunRequest,
  type ServerConfig,
  type ServerDeps,
  type ServerMetrics,
} from "./types.ts";
export {
  type ListenConfig,
  listenConfigFromEnv,
  MIN_JWT_SECRET_BYTES,
  serverConfigFromEnv,
} from "./config.ts";
export {
  type AppOptions,
  createApp,
  MAX_BODY_BYTES,
  QUEUE_RETRY_AFTER_SECONDS,
  READYZ_CACHE_MS,
  type ServerApp,
} from "./app.ts";
export {
  ADDRESS_RATE_LIMIT_FACTOR,
  type AuthVariables,
  bearerAuth,
  type BearerAuthOptions,
  clientAddress,
  CLOCK_SKEW_SECONDS,
  hasScope,
  httpError,
  JWT_ALGORITHM,
  MAX_TOKEN_LIFETIME_SECONDS,
  type MintOptions,
  mintToken,
  rateLimit,
  type RateLimitOptions,
  type RequestAuth,
  type Scope,
  SCOPES,
} from "./auth.ts";
export { idField, MAX_ID_LENGTH, pathField } from "./fields.ts";
export {
  MAX_NAME_BYTES,
  MAX_PATH_LENGTH,
  type PathKind,
  RequestPathError,
  type ResolveOptions,
  resolveRequestPath,
  resolveRunFolder,
  rootFolder,
  type RunFolderOptions,
  serverJobId,
} from "./paths.ts";
export {
  createJsonLogger,
  methodLabel,
  requestLog,
  type RequestLogOptions,
  routePattern,
} from "./log.ts";
export { createJobQueue, type JobQueueOptions } from "./queue.ts";
export {
  createJobRegistry,
  type JobRegistryOptions,
  REGISTRY_DIR,
  REGISTRY_FILE,
} from "./registry.ts";
export { createServerMetrics, type ServerMetricsOptions } from "./metrics.ts";
export { createMcpServer, mcpApp } from "./mcp.ts";
