/**
 * The run server's configuration, read from the environment once at start
 * (`deno task serve`). Every variable has a default except the JWT secret;
 * every bad value is refused before the server listens, all of them in one
 * {@link UserError} of kind `usage` (exit code 2) that names each variable,
 * what it holds and what it must be:
 *
 * | variable                      | default                      | accepted                                   |
 * |-------------------------------|------------------------------|--------------------------------------------|
 * | `PORT`                        | 8080                         | a whole number 0-65535 (0: any free port)  |
 * | `IFRS9_HOST`                  | 0.0.0.0 (127.0.0.1: below)   | an interface address or host name          |
 * | `IFRS9_DATA_ROOTS`            | `data`                       | folders separated by `:`                   |
 * | `IFRS9_RULES_ROOTS`           | `config`                     | folders separated by `:` (rules files only)|
 * | `IFRS9_OUT_DIR`               | `data/runs`                  | a local folder (run folders, job registry) |
 * | `IFRS9_MOVEMENT_DIR`          | `data/movements`             | a local folder                             |
 * | `IFRS9_RULES`                 | `config/ifrs9_rules.yaml`    | the rules file of a request naming none    |
 * | `IFRS9_AUTH`                  | `enabled`                    | `enabled` or `disabled`                    |
 * | `IFRS9_JWT_SECRET`            | none: required               | at least 32 bytes (HS256, RFC 7518 §3.2)   |
 * | `IFRS9_MAX_CONCURRENT_RUNS`   | 1                            | 1-64                                       |
 * | `IFRS9_MAX_QUEUED_RUNS`       | 10                           | 0-10000                                    |
 * | `IFRS9_SHUTDOWN_GRACE_S`      | 30                           | 0-3600 seconds                             |
 * | `IFRS9_RATE_LIMIT_PER_MINUTE` | 120                          | 1-1000000                                  |
 *
 * With `IFRS9_AUTH=disabled` and no `IFRS9_HOST` (nor `--host`), the
 * server listens on the loopback interface only (127.0.0.1): a server
 * without authentication is reached from another machine only when an
 * address is given on purpose.
 *
 * Relative paths are taken from the project root (`projectPath`), not the
 * working directory, like every default file of the library; `s3://` data
 * roots are kept as they are. An empty variable counts as unset.
 *
 * @module
 */
import { isAbsolute } from "node:path";
import { UserError } from "../errors.ts";
import { projectPath } from "../project.ts";
import type { ServerConfig } from "./types.ts";

/** The shortest HS256 secret accepted: the hash's output size (RFC 7518 §3.2). */
export const MIN_JWT_SECRET_BYTES = 32;

/** The interface listened on by default: every one. */
export const DEFAULT_HOST = "0.0.0.0";

/** The interface listened on by default when authentication is disabled. */
export const LOOPBACK_HOST = "127.0.0.1";

/** Where and how the server listens (`PORT`, `IFRS9_HOST`). */
export interface ListenConfig {
  /** The TCP port; 0 lets the system choose one. @default 8080 */
  port: number;
  /**
   * The interface address. @default "0.0.0.0", or "127.0.0.1" when
   * `IFRS9_AUTH=disabled`
   */
  hostname: string;
  /**
   * Whether `hostname` is the default rather than `IFRS9_HOST` (`--host`
   * of `deno task serve` overrides both).
   */
  hostDefaulted: boolean;
}

/** Environment variables as `Deno.env.toObject()` gives them. */
type Env = Record<string, string | undefined>;

/**
 * The {@link ServerConfig} the environment describes.
 *
 * @throws {UserError} (kind `usage`, exit 2) naming every variable with a
 *   bad value, and what it must be.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverConfigFromEnv } from "./config.ts";
 *
 * const config = serverConfigFromEnv({
 *   IFRS9_JWT_SECRET: "x".repeat(32),
 *   IFRS9_MAX_CONCURRENT_RUNS: "2",
 * });
 * assert.equal(config.maxConcurrentRuns, 2);
 * assert.equal(config.maxQueuedRuns, 10);
 * assert.ok(config.outDir.endsWith("/data/runs"));
 * assert.throws(
 *   () => serverConfigFromEnv({ IFRS9_JWT_SECRET: "short" }),
 *   /IFRS9_JWT_SECRET must be at least 32 bytes/,
 * );
 * ```
 */
export function serverConfigFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ServerConfig {
  const read = new EnvReader(env);
  const config: ServerConfig = {
    dataRoots: read.roots("IFRS9_DATA_ROOTS", "data"),
    rulesRoots: read.roots("IFRS9_RULES_ROOTS", "config"),
    outDir: read.localFolder("IFRS9_OUT_DIR", "data/runs"),
    movementDir: read.localFolder("IFRS9_MOVEMENT_DIR", "data/movements"),
    defaultRules: read.path("IFRS9_RULES", "config/ifrs9_rules.yaml"),
    jwtSecret: read.secret(),
    maxConcurrentRuns: read.whole("IFRS9_MAX_CONCURRENT_RUNS", 1, 1, 64),
    maxQueuedRuns: read.whole("IFRS9_MAX_QUEUED_RUNS", 10, 0, 10_000),
    shutdownGraceSeconds: read.number("IFRS9_SHUTDOWN_GRACE_S", 30, 0, 3600),
    rateLimitPerMinute: read.whole(
      "IFRS9_RATE_LIMIT_PER_MINUTE",
      120,
      1,
      1_000_000,
    ),
  };
  read.done();
  return config;
}

/**
 * Where the server listens: `PORT` and `IFRS9_HOST`.
 *
 * @throws {UserError} (kind `usage`, exit 2) naming the variable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenConfigFromEnv } from "./config.ts";
 *
 * assert.deepEqual(listenConfigFromEnv({}), {
 *   port: 8080,
 *   hostname: "0.0.0.0",
 *   hostDefaulted: true,
 * });
 * // Without authentication: the loopback only, unless a host is given.
 * assert.equal(listenConfigFromEnv({ IFRS9_AUTH: "disabled" }).hostname, "127.0.0.1");
 * assert.equal(
 *   listenConfigFromEnv({ IFRS9_AUTH: "disabled", IFRS9_HOST: "0.0.0.0" }).hostname,
 *   "0.0.0.0",
 * );
 * assert.throws(() => listenConfigFromEnv({ PORT: "http" }), /PORT must be a whole number/);
 * ```
 */
export function listenConfigFromEnv(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ListenConfig {
  const read = new EnvReader(env);
  const host = read.optionalText("IFRS9_HOST");
  // IFRS9_AUTH's value is checked by serverConfigFromEnv.
  const authDisabled = env.IFRS9_AUTH?.trim() === "disabled";
  const listen = {
    port: read.whole("PORT", 8080, 0, 65_535),
    hostname: host ?? (authDisabled ? LOOPBACK_HOST : DEFAULT_HOST),
    hostDefaulted: host === undefined,
  };
  read.done();
  return listen;
}

/** Reads variables, collecting every problem to report them at once. */
class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** The value, trimmed; undefined when unset or empty. */
  private value(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  }

  private bad(name: string, what: string, got: string): void {
    this.problems.push(`${name} must be ${what}, got ${JSON.stringify(got)}`);
  }

  /** Throws one error naming every problem found. */
  done(): void {
    if (this.problems.length === 0) return;
    throw new UserError(
      "usage",
      `The server's environment is not usable: ${this.problems.join("; ")}`,
    );
  }

  /** The value, trimmed; undefined when unset or empty. */
  optionalText(name: string): string | undefined {
    return this.value(name);
  }

  number(name: string, fallback: number, min: number, max: number): number {
    return this.numeric(name, fallback, min, max, false);
  }

  whole(name: string, fallback: number, min: number, max: number): number {
    return this.numeric(name, fallback, min, max, true);
  }

  private numeric(
    name: string,
    fallback: number,
    min: number,
    max: number,
    whole: boolean,
  ): number {
    const raw = this.value(name);
    if (raw === undefined) return fallback;
    const n = /^[+]?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) {
      this.bad(
        name,
        `${whole ? "a whole number" : "a number"} from ${min} to ${max}`,
        raw,
      );
      return fallback;
    }
    if (n < min || n > max) {
      this.bad(name, `from ${min} to ${max}`, raw);
      return fallback;
    }
    return n;
  }

  /** A path from the project root unless absolute. */
  path(name: string, fallback: string): string {
    const raw = this.value(name) ?? fallback;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return raw;
    return isAbsolute(raw) ? raw : projectPath(raw);
  }

  /** A local folder: the job registry and child processes need a file system. */
  localFolder(name: string, fallback: string): string {
    const raw = this.value(name) ?? fallback;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
      this.bad(
        name,
        "a local folder (the server keeps its job registry there)",
        raw,
      );
      return projectPath(fallback);
    }
    return isAbsolute(raw) ? raw : projectPath(raw);
  }

  /**
   * Folders separated by `:`; `s3://bucket/prefix` entries are kept whole
   * (their `:` is not a separator).
   */
  roots(name: string, fallback: string): string[] {
    const raw = this.value(name) ?? fallback;
    const parts: string[] = [];
    for (const piece of raw.split(":")) {
      const last = parts.length - 1;
      // `s3` then `//bucket/...`: one URL split at its scheme.
      if (
        last >= 0 && piece.startsWith("//") &&
        /^[a-z][a-z0-9+.-]*$/i.test(parts[last])
      ) {
        parts[last] = `${parts[last]}:${piece}`;
      } else {
        parts.push(piece.trim());
      }
    }
    const roots = parts.filter((p) => p !== "");
    if (roots.length === 0) {
      this.bad(name, "one or more folders separated by ':'", raw);
      return [projectPath(fallback)];
    }
    return roots.map((p) =>
      /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || isAbsolute(p) ? p : projectPath(p)
    );
  }

  /** The JWT secret, or null when authentication is turned off on purpose. */
  secret(): string | null {
    const auth = this.value("IFRS9_AUTH");
    if (auth !== undefined && auth !== "enabled" && auth !== "disabled") {
      this.bad("IFRS9_AUTH", `"enabled" or "disabled"`, auth);
      return null;
    }
    if (auth === "disabled") return null;
    // Not trimmed: a secret is used byte for byte as given.
    const secret = this.env.IFRS9_JWT_SECRET ?? "";
    if (secret === "") {
      this.problems.push(
        "IFRS9_JWT_SECRET is required: set it to a random secret of at least 32 bytes (for example `openssl rand -hex 32`), or set IFRS9_AUTH=disabled to run without authentication on a trusted network",
      );
      return null;
    }
    const bytes = new TextEncoder().encode(secret).length;
    if (bytes < MIN_JWT_SECRET_BYTES) {
      // The secret itself is never repeated in a message.
      this.problems.push(
        `IFRS9_JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes for HS256, got ${bytes} (for example \`openssl rand -hex 32\`)`,
      );
      return null;
    }
    return secret;
  }
}
