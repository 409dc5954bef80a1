/**
 * The paths a request may name, and how they are checked before a job is
 * queued: a portfolio, an FX table or a run folder lies under one of the
 * server's data roots (`IFRS9_DATA_ROOTS`), a rules file (or an FX table)
 * also under its rules roots (`IFRS9_RULES_ROOTS`). A path is relative to
 * the project root (`projectPath`, as every default file of the library) or
 * absolute inside a root. Refused, each with a {@link RequestPathError}
 * (kind `input`, HTTP 400) naming the field and the reason:
 *
 * - a NUL byte, an empty path, a path over {@link MAX_PATH_LENGTH}
 *   characters or with a name over {@link MAX_NAME_BYTES} bytes;
 * - another scheme (`http:`, `file:`); `s3://` is refused with "object
 *   storage is not configured" until the storage settings exist;
 * - a `..` segment, even one that would stay inside a root;
 * - an absolute path outside the roots;
 * - a path that does not exist, or is not a regular file (a folder for a
 *   run folder), or cannot be followed (it goes through a file, or through
 *   a loop of symbolic links);
 * - a symbolic link, anywhere along the path, that resolves outside the
 *   roots (the real path is checked, and the real path is what the job
 *   gets, so a link changed after the check cannot redirect it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRequestPath } from "./paths.ts";
 *
 * const root = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.writeTextFile(`${root}/book.csv`, "loan_id\n");
 * const roots = [root];
 * assert.equal(
 *   await resolveRequestPath("portfolio", `${root}/book.csv`, { roots }),
 *   `${root}/book.csv`,
 * );
 * await assert.rejects(
 *   () => resolveRequestPath("portfolio", `${root}/../etc/passwd`, { roots }),
 *   /^RequestPathError: portfolio: has a '\.\.' segment/,
 * );
 * await assert.rejects(
 *   () => resolveRequestPath("portfolio", "/etc/passwd", { roots }),
 *   /portfolio: \/etc\/passwd is outside the allowed folders/,
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 *
 * @module
 */
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { UserError } from "../errors.ts";
import { projectPath } from "../project.ts";
import { loadRules } from "../rules.ts";
import { defaultRunId, RUN_FILES, RUN_ID } from "../run_folder/mod.ts";
import type { MovementRequest, RunRequest, ServerConfig } from "./types.ts";

/** A request's path that cannot be used: HTTP 400 naming the field. */
export class RequestPathError extends UserError {
  /** The request field at fault (`portfolio`, `rules`, `fx`, `from`, `to`). */
  readonly field: string;

  /**
   * A refused path.
   *
   * @param field The request field at fault.
   * @param reason What is wrong with the path, and what to do.
   */
  constructor(field: string, reason: string) {
    super("input", `${field}: ${reason}`);
    this.name = "RequestPathError";
    this.field = field;
  }
}

/** What a path must lead to. */
export type PathKind = "file" | "folder";

/** Options of {@link resolveRequestPath}. */
export interface ResolveOptions {
  /**
   * The folders the path may lie under: relative to the project root, or
   * absolute. Roots with a scheme (`s3://`) are not local folders and are
   * skipped.
   */
  roots: readonly string[];
  /** A regular file, or a folder. @default "file" */
  kind?: PathKind;
}

/** `s3:`, `http:`, `file:`, `c:`...: anything that starts like a URL scheme. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** The longest path accepted (Linux's PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

/** The longest name (one component of a path) accepted, in UTF-8 bytes (Linux's NAME_MAX). */
export const MAX_NAME_BYTES = 255;

/** A configured root as an absolute folder: relative roots from the project. */
export function rootFolder(root: string): string {
  return isAbsolute(root) ? normalize(root) : projectPath(root);
}

/** Whether `path` is `folder` or lies under it (both absolute, normalized). */
function isInside(path: string, folder: string): boolean {
  const base = folder.endsWith(sep) ? folder : folder + sep;
  return path === folder || path.startsWith(base);
}

/** The local roots as given (for messages) and as absolute folders. */
function localRoots(
  roots: readonly string[],
): { shown: string; dirs: string[] } {
  const local = roots.filter((r) => !SCHEME.test(r));
  return {
    shown: local.join(", ") || "(none configured)",
    dirs: local.map(rootFolder),
  };
}

/** The real path of each root that exists (a root may be a link itself). */
async function realRoots(dirs: string[]): Promise<string[]> {
  const real: string[] = [];
  for (const dir of dirs) {
    try {
      real.push(await Deno.realPath(dir));
    } catch {
      // A root that does not exist holds nothing a request could name.
    }
  }
  return real;
}

/**
 * The real, absolute path of a request's `value` for `field`, once it is
 * known to lie under `roots` and to be a file (or a folder).
 *
 * @param field The request field, named in every message.
 * @param value The path as the request gives it.
 * @throws {RequestPathError} naming the field and the reason (module doc).
 */
export async function resolveRequestPath(
  field: string,
  value: string,
  { roots, kind = "file" }: ResolveOptions,
): Promise<string> {
  const fail = (reason: string): never => {
    throw new RequestPathError(field, reason);
  };
  if (value.includes("\0")) fail("contains a NUL byte");
  if (value.trim() === "") fail("is empty; give a path");
  if (value.length > MAX_PATH_LENGTH) {
    fail(`is longer than ${MAX_PATH_LENGTH} characters`);
  }
  const scheme = SCHEME.exec(value)?.[1].toLowerCase();
  if (scheme === "s3") {
    fail(
      `${value}: object storage is not configured on this server; give a path under ${
        localRoots(roots).shown
      }`,
    );
  }
  if (scheme !== undefined) {
    fail(
      `${value}: the scheme ${scheme}: is not accepted; give a path under ${
        localRoots(roots).shown
      }`,
    );
  }
  // Refused even when the result would stay inside a root: a request has
  // no reason to climb, and `a/../../b` is how escapes are written.
  const names = value.split(/[\\/]/);
  if (names.includes("..")) {
    fail(`has a '..' segment; give a path under ${localRoots(roots).shown}`);
  }
  // The file system would refuse it (ENAMETOOLONG); said here, by field.
  const encoder = new TextEncoder();
  if (names.some((name) => encoder.encode(name).length > MAX_NAME_BYTES)) {
    fail(
      `has a name (between two '/') longer than ${MAX_NAME_BYTES} bytes; no file has such a name`,
    );
  }
  const { shown, dirs } = localRoots(roots);
  const path = isAbsolute(value) ? normalize(value) : projectPath(value);
  const real = await realRoots(dirs);
  if (![...dirs, ...real].some((root) => isInside(path, root))) {
    fail(`${value} is outside the allowed folders (${shown})`);
  }
  // The file system's refusals that a request causes are the request's
  // fault (400), named without the server's own path.
  const unusable = (e: unknown): never => {
    if (e instanceof Deno.errors.NotFound) {
      fail(`${value}: no such ${kind === "file" ? "file" : "folder"}`);
    }
    if (e instanceof Deno.errors.PermissionDenied) {
      fail(`${value}: cannot be read by the server (permission denied)`);
    }
    if (e instanceof Deno.errors.NotADirectory) {
      fail(
        `${value}: a part of the path before the last is a file, not a folder`,
      );
    }
    if (e instanceof Deno.errors.FilesystemLoop) {
      fail(`${value}: the path goes through a loop of symbolic links`);
    }
    if ((e as { code?: unknown })?.code === "ENAMETOOLONG") {
      fail(`${value}: the path is too long for the file system`);
    }
    throw e;
  };
  let resolved = "";
  try {
    resolved = await Deno.realPath(path);
  } catch (e) {
    unusable(e);
  }
  // The link check: where the path really leads, not what it says.
  if (!real.some((root) => isInside(resolved, root))) {
    fail(
      `${value} leads through a symbolic link outside the allowed folders (${shown})`,
    );
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(resolved);
  } catch (e) {
    // Changed since it was resolved.
    return unusable(e);
  }
  if (kind === "file" && !info.isFile) {
    fail(
      `${value} is ${
        info.isDirectory ? "a folder" : "not a regular file"
      }; give a file`,
    );
  }
  if (kind === "folder" && !info.isDirectory) {
    fail(`${value} is not a folder`);
  }
  return resolved;
}

/** Options of {@link resolveRunFolder}. */
export interface RunFolderOptions {
  /** The data roots a run folder's path may lie under. */
  roots: readonly string[];
  /** The server's output folder, where a bare run id is looked up. */
  outDir: string;
}

/**
 * The real path of a run folder a movement request names: a bare run id
 * (no `/`) is a run of the server's output folder, anything else a path
 * under the data roots. The folder must hold a `manifest.json`; whether
 * the run is complete is the movement's own check.
 *
 * @throws {RequestPathError} naming the field and the reason.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveRunFolder } from "./paths.ts";
 *
 * const out = await Deno.realPath(await Deno.makeTempDir());
 * await Deno.mkdir(`${out}/q4`);
 * await Deno.writeTextFile(`${out}/q4/manifest.json`, "{}");
 * assert.equal(await resolveRunFolder("from", "q4", { roots: [], outDir: out }), `${out}/q4`);
 * await assert.rejects(
 *   () => resolveRunFolder("to", "q5", { roots: [], outDir: out }),
 *   /to: no run q5 in /,
 * );
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function resolveRunFolder(
  field: string,
  value: string,
  { roots, outDir }: RunFolderOptions,
): Promise<string> {
  const bareId = !/[\\/]/.test(value) && !SCHEME.test(value);
  if (bareId && !RUN_ID.test(value)) {
    throw new RequestPathError(
      field,
      `${
        JSON.stringify(value)
      } is not a run id (letters, digits, '.', '_' and '-', not starting with '.') nor a path`,
    );
  }
  let dir: string;
  if (bareId) {
    const out = rootFolder(outDir);
    try {
      dir = await resolveRequestPath(field, join(out, value), {
        roots: [out],
        kind: "folder",
      });
    } catch (e) {
      if (!(e instanceof RequestPathError)) throw e;
      throw new RequestPathError(
        field,
        `no run ${value} in ${outDir} (${
          e.message.slice(field.length + 2)
        }); give a run id of the server's runs or a run folder's path`,
      );
    }
  } else {
    dir = await resolveRequestPath(field, value, { roots, kind: "folder" });
  }
  try {
    if (!(await Deno.stat(join(dir, RUN_FILES.manifest))).isFile) {
      throw new Deno.errors.NotFound();
    }
  } catch (e) {
    if (
      !(e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.NotADirectory ||
        e instanceof Deno.errors.FilesystemLoop)
    ) throw e;
    throw new RequestPathError(
      field,
      `${value} is not a run folder (it has no ${RUN_FILES.manifest})`,
    );
  }
  return dir;
}

/**
 * The id the server chooses for a job whose request names none: the clock
 * to the millisecond (so ids sort by time) and 8 random hex digits (32
 * bits), so that jobs asked for in the same millisecond do not collide
 * and get a 409 for an id the client never chose. Within `RUN_ID` and at
 * most 37 characters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverJobId } from "./paths.ts";
 *
 * const at = new Date("2026-01-02T03:04:05.678Z");
 * assert.match(serverJobId("run", at), /^run-20260102T030405678Z-[0-9a-f]{8}$/);
 * assert.notEqual(serverJobId("movement", at), serverJobId("movement", at));
 * ```
 */
export function serverJobId(
  kind: "run" | "movement",
  now: Date = new Date(),
): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0];
  return `${defaultRunId(now).replace(/^run-/, `${kind}-`)}-${
    random.toString(16).padStart(8, "0")
  }`;
}

/** What a client asks to run: `POST /runs`'s body, the `start_run` tool's arguments. */
export interface RunAsk {
  /** The portfolio file, under the data roots. */
  portfolio: string;
  /** The rules file, under the data or rules roots; the server's by default. */
  rules?: string;
  /** The FX table, under the data or rules roots. */
  fx?: string;
  /** The run id; {@link serverJobId}'s (`run-YYYYMMDDTHHMMSSmmmZ-xxxxxxxx`) by default. */
  run_id?: string;
}

/** What a client asks to compare: `POST /movements`' body, `start_movement`'s arguments. */
export interface MovementAsk {
  /** The earlier run: a folder under the data roots, or a run id. */
  from: string;
  /** The later run, likewise. */
  to: string;
  /** The movement id; {@link serverJobId}'s (`movement-YYYYMMDDTHHMMSSmmmZ-xxxxxxxx`) by default. */
  movement_id?: string;
}

/**
 * A run's request with its paths checked and its defaults chosen, the
 * same for every door (HTTP and MCP): the portfolio under the data
 * roots, rules and FX tables under the data or rules roots.
 *
 * @throws {UserError} naming the field and why its path is refused.
 */
export async function runRequestFor(
  config: Pick<ServerConfig, "dataRoots" | "rulesRoots" | "defaultRules">,
  ask: RunAsk,
): Promise<RunRequest> {
  const roots = [...config.dataRoots, ...config.rulesRoots];
  const portfolio = await resolveRequestPath("portfolio", ask.portfolio, {
    roots: config.dataRoots,
  });
  const rules = ask.rules === undefined
    ? rootFolder(config.defaultRules)
    : await resolveRequestPath("rules", ask.rules, { roots });
  const fx = ask.fx === undefined
    ? undefined
    : await resolveRequestPath("fx", ask.fx, { roots });
  await checkPluginModules(rules, config.rulesRoots);
  return {
    portfolio,
    rules,
    ...(fx === undefined ? {} : { fx }),
    runId: ask.run_id ?? serverJobId("run"),
  };
}

/** Where the modules of plugins a server run loads may live, besides the rules roots. */
export const PLUGINS_ROOT = "plugins";

/**
 * Refuses a rules file whose plugins' modules lie outside the project's
 * `plugins/` folder and the rules roots: a plugin is code the run
 * executes, so a request must not make the server import a module from a
 * data folder a client can fill. Checked before the job is queued.
 *
 * @throws {UserError} naming the plugin entry and why its module is refused.
 */
async function checkPluginModules(
  rulesFile: string,
  rulesRoots: string[],
): Promise<void> {
  const { plugins = [] } = await loadRules(rulesFile);
  const roots = [...rulesRoots, projectPath(PLUGINS_ROOT)];
  for (const [i, ref] of plugins.entries()) {
    const path = isAbsolute(ref.module)
      ? ref.module
      : join(dirname(rulesFile), ref.module);
    await resolveRequestPath(`rules: plugins[${i}].module`, path, { roots });
  }
}

/**
 * A movement's request with its run folders checked and its id chosen,
 * the same for every door.
 *
 * @throws {UserError} naming the field and why the folder is refused.
 */
export async function movementRequestFor(
  config: Pick<ServerConfig, "dataRoots" | "outDir">,
  ask: MovementAsk,
): Promise<MovementRequest> {
  const where = { roots: config.dataRoots, outDir: config.outDir };
  return {
    from: await resolveRunFolder("from", ask.from, where),
    to: await resolveRunFolder("to", ask.to, where),
    movementId: ask.movement_id ?? serverJobId("movement"),
  };
}
