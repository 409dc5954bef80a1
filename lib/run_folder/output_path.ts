/**
 * Where an output may go, checked before anything is read or computed.
 * Every door that writes goes through here first: a run's `--out`
 * ({@link checkOutputDir}, again in `openRunFolder`), the validation
 * outputs, a movement and a BI export ({@link checkOutputFolder}), a
 * dashboard page ({@link checkOutputFile}), the generator's and the
 * notebooks' folders ({@link makeOutputDir}) and `deno task clean`'s
 * folder ({@link outputEntry}). A path is refused, as an
 * {@link OutputLocationError} (kind `usage`, exit 2) naming it and what is
 * in the way, when:
 *
 * - it is a file where a folder is wanted, or a folder where a file is,
 *   or something else (a device such as `/dev/full`, a named pipe, a
 *   socket), each called what it is ({@link entryKind});
 * - one of the folders above it is a file, or it cannot be looked at
 *   (permission denied, a name too long, a loop of symbolic links);
 * - no folder can be created where the output is staged (a path under
 *   `/proc` or `/sys`, a read-only disk, another user's folder): found by
 *   creating and removing at once a hidden folder named like a staging
 *   folder ({@link PROBE_NAME}), which the sweep of stale entries removes
 *   should the process be killed in between;
 * - it is a run folder or inside one, at any depth: every folder from the
 *   path up to the root is looked at, and one whose `manifest.json` or
 *   `summary.json` is a JSON object with a `run_id` is a run's;
 * - for an output that replaces the entry at its path (an output folder,
 *   a dashboard page): the path is a symbolic link (publishing renames
 *   onto the path, which replaces the link itself, not what it points
 *   to), the folder holds files that are not the output's, or it is, or
 *   holds, one of the output's own inputs.
 *
 * Links among the folders above a path are followed (a runs folder on
 * another disk, linked from `data/runs`, is fine); a link as the last
 * segment is followed for a folder that outputs are written into (a
 * run's `--out`), and refused for an output that replaces the entry.
 *
 * Once writing has begun, a full disk or a refused write is the machine's
 * (kind `output`, exit 3), as `write.ts` reports it.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { basename, dirname, join, relative, resolve } from "node:path";
import { RUN_FILES } from "./layout.ts";
import { locate, partialName } from "./location.ts";
import { COMPLETE_MARKER, isS3Url } from "../storage/mod.ts";

/**
 * Thrown when an output would go where it must not (a file where a folder
 * is wanted, a path the file system refuses, a folder of other files, a
 * run folder, an input): a usage error, raised before anything is
 * computed.
 */
export class OutputLocationError extends UserError {
  /** The output path refused. */
  readonly path: string;

  /**
   * Reads `Cannot <verb> <path>: <detail>`.
   *
   * @param path The output path refused.
   * @param detail Why, and what to give instead.
   * @param opts.verb What was to be done with the path. @default "write"
   * @param opts.cause The file system's error, kept for `--debug`.
   */
  constructor(
    path: string,
    detail: string,
    opts: { verb?: string; cause?: unknown } = {},
  ) {
    super("usage", `Cannot ${opts.verb ?? "write"} ${path}: ${detail}`, {
      cause: opts.cause,
    });
    this.name = "OutputLocationError";
    this.path = path;
  }
}

/** What an output is checked against: the files or folders it reads. */
export interface OutputCheckOptions {
  /**
   * The inputs (files or folders) the output is made from: an output that
   * would replace one of them, or a folder holding one, is refused.
   */
  inputs?: readonly string[];
}

/**
 * The name of the hidden folder created and removed at once to learn
 * whether a folder can be created where an output is staged:
 * `.output-check.partial-<pid>-<12 hex>`, a staging name, so that one left
 * by a process killed in between is swept like a killed writer's.
 */
export const PROBE_NAME = "output-check";

/**
 * Errors of a path the file system refuses that Deno reports without a
 * class of their own, by Linux error number: a read-only file system (30)
 * and a name too long (36).
 */
const REFUSED_PATH_OS_ERRORS = /\(os error (30|36)\)/;

/**
 * Whether `e` is the file system refusing a path (rather than a full disk
 * or a bug): nothing there or a file in the way (NotFound, NotADirectory,
 * AlreadyExists), no permission, a loop of links, a read-only disk, a
 * name too long.
 */
function refusesPath(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound ||
    e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.AlreadyExists ||
    e instanceof Deno.errors.PermissionDenied ||
    e instanceof Deno.errors.FilesystemLoop ||
    (e instanceof Error && REFUSED_PATH_OS_ERRORS.test(e.message));
}

/** The message of a thrown value. */
const messageOf = (e: unknown) => (e as Error)?.message ?? String(e);

/**
 * What an entry of the file system is, for a message (`it is a character
 * device, not a file`): a file, a folder, a symbolic link, a character
 * device (`/dev/full`, `/dev/null`), a block device, a named pipe or a
 * socket. A regular file is "a file", as users call it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryKind } from "./output_path.ts";
 *
 * assert.equal(entryKind(Deno.statSync("/dev/full")), "a character device");
 * assert.equal(entryKind(Deno.statSync("/")), "a folder");
 * ```
 */
export function entryKind(info: Deno.FileInfo): string {
  if (info.isFile) return "a file";
  if (info.isDirectory) return "a folder";
  if (info.isSymlink) return "a symbolic link";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isFifo) return "a named pipe (FIFO)";
  if (info.isSocket) return "a socket";
  return "not a file or folder";
}

/** The kind of what stands at `path` (links followed), or "a file". */
async function kindAt(path: string): Promise<string> {
  try {
    return entryKind(await Deno.stat(path));
  } catch {
    // Gone meanwhile: it was not a folder, which is what matters here.
    return "a file";
  }
}

/**
 * The file standing where `path` or one of the folders above it should
 * be a folder, or undefined when there is none (links followed).
 */
async function fileInTheWay(path: string): Promise<string | undefined> {
  for (let p = path;; p = dirname(p)) {
    try {
      return (await Deno.stat(p)).isDirectory ? undefined : p;
    } catch (e) {
      if (
        !(e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.NotADirectory)
      ) return undefined;
    }
    if (dirname(p) === p) return undefined;
  }
}

/**
 * The error to throw for `e`, raised while looking at or creating the
 * output path `path` (given by the user as `target`): an
 * {@link OutputLocationError} naming what is in the way when the file
 * system refuses the path, `e` itself otherwise (a full disk stays the
 * machine's, a bug a bug).
 */
export async function outputPathRefusal(
  target: string,
  path: string,
  e: unknown,
  verb = "write",
): Promise<unknown> {
  if (e instanceof UserError || !refusesPath(e)) return e;
  if (
    e instanceof Deno.errors.NotADirectory ||
    e instanceof Deno.errors.AlreadyExists
  ) {
    const file = await fileInTheWay(path);
    if (file === resolve(path)) {
      return new OutputLocationError(
        target,
        `it is ${await kindAt(
          file,
        )}, not a folder; give a folder (new, or one outputs of this kind are written to)`,
        { verb, cause: e },
      );
    }
    if (file !== undefined) {
      return new OutputLocationError(
        target,
        `${file} is ${await kindAt(
          file,
        )}, not a folder, so nothing can be created under it; give a path whose folders are folders`,
        { verb, cause: e },
      );
    }
  }
  return new OutputLocationError(
    target,
    `${messageOf(e)}; give a path in a folder you can write to`,
    { verb, cause: e },
  );
}

/**
 * What is at `path` (given as `target`): its info, or null when nothing
 * is there. With `follow` (`stat`), a link is followed and a dangling one
 * refused: right for a folder outputs are written into, since writing
 * into a linked folder writes where the link points. Without it
 * (`lstat`), the entry itself is described (`isSymlink`): right for an
 * output that replaces the entry at its path, since the rename that
 * publishes it replaces the link, not what the link points to, so the
 * link is what the check must see.
 */
async function entryAt(
  target: string,
  path: string,
  follow: boolean,
  verb = "write",
): Promise<Deno.FileInfo | null> {
  try {
    return follow ? await Deno.stat(path) : await Deno.lstat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw await outputPathRefusal(target, path, e, verb);
    }
  }
  if (!follow) return null;
  // Nothing at the end of the path: a dangling link, or nothing at all.
  let link: string;
  try {
    link = await Deno.readLink(path);
  } catch (e) {
    // Not a link either: nothing there.
    if (e instanceof Deno.errors.NotFound) return null;
    throw await outputPathRefusal(target, path, e, verb);
  }
  throw new OutputLocationError(
    target,
    `it is a symbolic link to ${link}, which does not exist; give a folder`,
    { verb },
  );
}

/**
 * What is at a folder path a user gave (links followed): its info, or
 * null when nothing is there. A path the file system refuses (a file
 * among its folders, no permission to look) is an
 * {@link OutputLocationError} naming it, `Cannot <verb> <target>: …`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutputLocationError, outputEntry } from "./output_path.ts";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/notes.txt`, "");
 * assert.equal(await outputEntry(`${root}/runs`), null);
 * await assert.rejects(
 *   () => outputEntry(`${root}/notes.txt/runs`, { verb: "clean" }),
 *   (e: Error) => e instanceof OutputLocationError &&
 *     e.message.startsWith(`Cannot clean ${root}/notes.txt/runs: ${root}/notes.txt is a file`),
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export function outputEntry(
  target: string,
  opts: { verb?: string } = {},
): Promise<Deno.FileInfo | null> {
  return entryAt(target, resolve(locate(target).href), true, opts.verb);
}

/**
 * Refuses `target` when no folder can be created in `dir` (the folder an
 * output is staged in) or, when `dir` does not exist yet, in the nearest
 * folder above it that does: a hidden {@link PROBE_NAME} folder is
 * created there and removed at once.
 */
async function checkCreatable(target: string, dir: string): Promise<void> {
  let existing = dir;
  for (;;) {
    const info = await entryAt(target, existing, true);
    if (info?.isDirectory) break;
    if (info !== null) {
      throw new OutputLocationError(
        target,
        `${existing} is ${
          entryKind(info)
        }, not a folder, so nothing can be created under it; give a path whose folders are folders`,
      );
    }
    // Not even the root exists: nothing to probe (no real file system).
    if (dirname(existing) === existing) return;
    existing = dirname(existing);
  }
  const probe = join(existing, partialName(PROBE_NAME));
  try {
    await Deno.mkdir(probe);
  } catch (e) {
    if (!refusesPath(e)) throw e;
    // The error without the probe's own name, which means nothing here.
    const why = messageOf(e).replace(/: mkdir '.*'$/, "");
    throw new OutputLocationError(
      target,
      `no folder can be created in ${existing} (${why}); give a path in a folder you can write to`,
      { cause: e },
    );
  }
  await Deno.remove(probe);
}

/**
 * The run id of a run folder, or null for any other folder: one whose
 * `manifest.json` or `summary.json` is a JSON object with a `run_id`
 * (another folder that happens to hold a `summary.json` is not one).
 */
async function runFolderAt(
  target: string,
  dir: string,
): Promise<string | null> {
  for (const file of [RUN_FILES.manifest, RUN_FILES.summary]) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(dir, file));
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.NotADirectory ||
        e instanceof Deno.errors.IsADirectory
      ) continue;
      // Unreadable: whether the folder is a run's cannot be told.
      throw new OutputLocationError(
        target,
        `cannot tell whether ${dir} is a run folder, which no output may go into: ${
          messageOf(e)
        }`,
        { cause: e },
      );
    }
    try {
      const value = JSON.parse(text);
      if (typeof value?.run_id === "string") return value.run_id;
    } catch {
      // Not JSON: not a run's file.
    }
  }
  return null;
}

/**
 * Refuses `target` (at `path`) when a folder above it, up to the root, is
 * a run folder: a run folder holds only the run's own files. The walk
 * ends at the root, so it takes at most one step per segment of the path.
 */
async function checkNotInRun(target: string, path: string): Promise<void> {
  for (let dir = dirname(path);; dir = dirname(dir)) {
    const runId = await runFolderAt(target, dir);
    if (runId !== null) {
      throw new OutputLocationError(
        target,
        `${dir} is the folder of run ${runId}, which holds only the run's own files; write beside it instead`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * The real path of `path`: links resolved. For a path with nothing at it
 * (yet), the real path of the nearest folder above it that exists, joined
 * with the rest, so a path through a link compares equal to the same path
 * spelled out. Any other failure (permission denied, a loop of links) is
 * thrown.
 */
async function realPath(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await Deno.realPath(abs);
  } catch (e) {
    if (
      !(e instanceof Deno.errors.NotFound ||
        e instanceof Deno.errors.NotADirectory)
    ) throw e;
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPath(parent), basename(abs));
  }
}

/**
 * The inputs that are `target` (at `path`) or inside it, as given, each
 * with whether it is `target` itself and its path inside it (`""` for
 * `target` itself); links are resolved on both sides, so a path through a
 * link compares equal to the same path spelled out.
 *
 * @throws {UserError} of kind `input` when an input's path cannot be
 *   resolved (permission denied), naming it.
 */
export async function inputsWithin(
  target: string,
  path: string,
  inputs: readonly string[],
): Promise<{ input: string; same: boolean; inside: string }[]> {
  let real: string;
  try {
    real = await realPath(path);
  } catch (e) {
    throw await outputPathRefusal(target, path, e);
  }
  const found = [];
  for (const input of inputs) {
    let inputReal: string;
    try {
      inputReal = await realPath(input);
    } catch (e) {
      throw new UserError(
        "input",
        `Cannot read ${input}: ${
          messageOf(e)
        }; give a path you can read (it is an input of the output ${target})`,
        { cause: e },
      );
    }
    if (inputReal === real || inputReal.startsWith(`${real}/`)) {
      found.push({
        input,
        same: inputReal === real,
        inside: relative(real, inputReal),
      });
    }
  }
  return found;
}

/** Refuses an output path that is an input or holds one. */
async function checkInputs(
  target: string,
  path: string,
  inputs: readonly string[],
): Promise<void> {
  const [first] = await inputsWithin(target, path, inputs);
  if (first === undefined) return;
  throw new OutputLocationError(
    target,
    `it ${
      first.same ? "is" : "holds"
    } the input ${first.input}, which this output would replace; give another output path`,
  );
}

/** Refuses an output that replaces the entry at `path` when it is a link. */
async function checkNotLink(
  target: string,
  path: string,
  info: Deno.FileInfo | null,
): Promise<void> {
  if (!info?.isSymlink) return;
  throw new OutputLocationError(
    target,
    `it is a symbolic link to ${await Deno.readLink(
      path,
    )}; an output replaces the entry at its path, which would put it in place of the link: give the path the link points to, or another`,
  );
}

/**
 * Checks, before anything is computed, that an output folder may be
 * written at `target`, replacing what is there: it is a folder (not a
 * link) or nothing yet, its folders are folders and one can be created
 * beside it, it holds only the `files` of such an output (a folder
 * holding anything else, a run folder among them, is not replaced), it is
 * not and does not hold an input, and it is not inside a run folder.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 * @throws {UserError} of kind `input` when an input's path cannot be
 *   resolved (permission denied), naming it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputFolder, OutputLocationError } from "./output_path.ts";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/book.csv`, "loan_id\n");
 * await checkOutputFolder(`${root}/out`, ["valid.parquet"]); // new: fine
 * await assert.rejects(
 *   () => checkOutputFolder(`${root}/book.csv`, ["valid.parquet"]),
 *   OutputLocationError,
 * );
 * await assert.rejects(
 *   () => checkOutputFolder(`${root}/book.csv/out`, ["valid.parquet"]),
 *   /book\.csv is a file, not a folder/,
 * );
 * await assert.rejects(
 *   () => checkOutputFolder(root, ["valid.parquet"], { inputs: [`${root}/book.csv`] }),
 *   /it holds book\.csv, which this output would replace/,
 * );
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function checkOutputFolder(
  target: string,
  files: readonly string[],
  opts: OutputCheckOptions = {},
): Promise<void> {
  // Object storage (lib/storage): no file system to ask; an output never
  // replaces a folder holding anything but its own files (and the
  // completion marker its publish writes last), nor one of its inputs.
  if (isS3Url(target)) {
    const href = locate(target).href;
    const held = (opts.inputs ?? []).filter((i) =>
      isS3Url(i) && `s3://${i.slice(5)}`.startsWith(`${href}/`)
    );
    if (held.length > 0) {
      throw new OutputLocationError(
        target,
        `it holds ${
          held[0]
        }, an input of this output; give a new or empty folder`,
      );
    }
    const foreign = (await locate(target).list()).filter((f) =>
      !files.includes(f) && f !== COMPLETE_MARKER
    );
    if (foreign.length > 0) {
      throw new OutputLocationError(
        target,
        `it holds ${
          foreign.join(", ")
        }, which this output would replace; give a new or empty folder`,
      );
    }
    return;
  }
  const path = resolve(locate(target).href);
  if (path === "/") {
    throw new OutputLocationError(target, "give a folder below the root");
  }
  const info = await entryAt(target, path, false);
  await checkNotLink(target, path, info);
  if (info !== null && !info.isDirectory) {
    throw new OutputLocationError(
      target,
      `it is ${
        entryKind(info)
      }, not a folder; give a folder (new or holding an earlier output of this kind)`,
    );
  }
  await checkNotInRun(target, path);
  if (info !== null) {
    const runId = files.includes(RUN_FILES.summary)
      ? null // the output is a run folder itself (a test's hand-made run)
      : await runFolderAt(target, path);
    if (runId !== null) {
      throw new OutputLocationError(
        target,
        `it is the folder of run ${runId}, which this output would replace; give a new or empty folder`,
      );
    }
    let entries: string[];
    try {
      entries = await locate(path).list();
    } catch (e) {
      throw await outputPathRefusal(target, path, e);
    }
    const foreign = entries.filter((f) => !files.includes(f));
    if (foreign.length > 0) {
      const held = (await inputsWithin(target, path, opts.inputs ?? []))
        .map((i) => i.input);
      throw new OutputLocationError(
        target,
        `it holds ${foreign.join(", ")}, which this output would replace${
          held.length === 0
            ? ""
            : `, and this output's input${held.length > 1 ? "s" : ""} ${
              held.join(", ")
            }`
        }; give a new or empty folder`,
      );
    }
  }
  // An earlier output's own file given as an input (`valid.parquet`
  // validated again into its folder).
  await checkInputs(target, path, opts.inputs ?? []);
  // The output is staged beside the path, and renamed onto it.
  await checkCreatable(target, dirname(path));
}

/**
 * Checks, before anything is computed, that an output file may be written
 * at `target`, replacing what is there: it is a file (not a link) or
 * nothing yet, its folders are folders and a file can be created beside
 * it, it is not an input, and it is not inside a run folder.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputFile } from "./output_path.ts";
 *
 * const root = await Deno.makeTempDir();
 * await checkOutputFile(`${root}/reports/dashboard.html`); // new: fine
 * await assert.rejects(() => checkOutputFile(root), /it is a folder, not a file/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function checkOutputFile(
  target: string,
  opts: OutputCheckOptions = {},
): Promise<void> {
  const path = resolve(locate(target).href);
  const info = await entryAt(target, path, false);
  await checkNotLink(target, path, info);
  if (info !== null && !info.isFile) {
    throw new OutputLocationError(
      target,
      `it is ${entryKind(info)}, not a file; give the path of a file`,
    );
  }
  await checkNotInRun(target, path);
  await checkInputs(target, path, opts.inputs ?? []);
  await checkCreatable(target, dirname(path));
}

/**
 * Checks, before anything is read or computed, a folder that outputs are
 * written into beside other files (a run's `--out`, where run folders go;
 * the generator's `--out`; the notebooks' pages): it is a folder or
 * nothing yet (a link to a folder is followed), its folders are folders
 * and one can be created in it, and it is neither a run folder nor inside
 * one.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutputDir } from "./output_path.ts";
 *
 * const root = await Deno.makeTempDir();
 * await checkOutputDir(`${root}/runs`); // new: fine
 * await assert.rejects(() => checkOutputDir("/proc/runs"), /no folder can be created in \/proc/);
 * await Deno.remove(root, { recursive: true });
 * ```
 */
export async function checkOutputDir(target: string): Promise<void> {
  // Object storage: a prefix holds runs as it is (lib/storage/s3_folder.ts).
  if (isS3Url(target)) return;
  const path = resolve(locate(target).href);
  const info = await entryAt(target, path, true);
  if (info !== null && !info.isDirectory) {
    throw new OutputLocationError(
      target,
      `it is ${
        entryKind(info)
      }, not a folder; give a folder (new, or one outputs of this kind are written to)`,
    );
  }
  if (info !== null) {
    const runId = await runFolderAt(target, path);
    if (runId !== null) {
      throw new OutputLocationError(
        target,
        `it is the folder of run ${runId}, which holds only the run's own files; give the folder run folders are written to (such as ${
          dirname(path)
        })`,
      );
    }
  }
  await checkNotInRun(target, path);
  await checkCreatable(target, path);
}

/**
 * Creates a folder that outputs are written into, with the folders above
 * it, once {@link checkOutputDir} has accepted it; a refusal of the file
 * system meanwhile is an {@link OutputLocationError} too.
 *
 * @throws {OutputLocationError} naming the path and what to give instead.
 */
export async function makeOutputDir(target: string): Promise<void> {
  await checkOutputDir(target);
  const path = resolve(locate(target).href);
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (e) {
    throw await outputPathRefusal(target, path, e);
  }
}
