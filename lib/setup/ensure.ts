/**
 * The setup step: makes sure the machine has what the tests and notebooks
 * need beyond npm packages, installing only what is missing.
 *
 * It is idempotent and explains itself, one line per thing (`present`,
 * `installing`, `installed`). `apt-get update` runs only when something
 * must be installed, and the Deno Jupyter kernel is (re-)registered only
 * when it is not registered for the Deno binary that runs this step, since
 * the kernel spec records that binary's absolute path. When it cannot
 * install (no apt, not root and no password-less sudo, a failing apt) it
 * throws a {@link SetupError} naming what is missing, the command it tried,
 * that command's stderr tail and what to run by hand.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import {
  type CommandOptions,
  type CommandResult,
  type CommandRunner,
  formatCommand,
  runCommand,
  tail,
} from "./command.ts";
import {
  DENO_KERNEL_NAME,
  SYSTEM_PACKAGES,
  type SystemPackage,
} from "./requirements.ts";

/** The setup step could not provide something the project needs. */
export class SetupError extends UserError {
  /**
   * The error.
   *
   * @param message What is missing, and how to provide it.
   */
  constructor(message: string) {
    super("output", message);
    this.name = "SetupError";
  }
}

/** Options of {@link ensureEnvironment}. */
export interface SetupOptions {
  /** Runs external commands. @default runCommand (Deno.Command) */
  run?: CommandRunner;
  /** Receives each progress line. @default console.log */
  log?: (line: string) => void;
  /** The Deno binary the kernel must run. @default Deno.execPath() */
  denoPath?: string;
  /** Whether the process may run apt-get itself. @default Deno.uid() === 0 */
  isRoot?: boolean;
  /**
   * Resolves a binary path to the file it names, so a kernel registered
   * through a symlink (`deno jupyter --install` may record the `deno` found
   * on `PATH`) counts as this Deno. @default Deno.realPath, or the path
   * itself when it does not exist
   */
  resolvePath?: (path: string) => Promise<string>;
  /** The Debian packages to provide. @default SYSTEM_PACKAGES */
  packages?: readonly SystemPackage[];
  /**
   * `false` only reports what is missing, installing and registering
   * nothing. @default true
   */
  install?: boolean;
}

/** How one requirement ended up. */
export type SetupStatus = "present" | "installed" | "registered" | "missing";

/** One line of the setup report. */
export interface SetupItem {
  /** A Debian package name, or `deno-kernel` for the Jupyter kernel. */
  name: string;
  status: SetupStatus;
}

/** What {@link ensureEnvironment} found and did. */
export interface SetupReport {
  items: SetupItem[];
  /** Whether everything is present now. */
  ok: boolean;
}

/** The report's name of the Deno Jupyter kernel. */
export const KERNEL_ITEM = "deno-kernel";

const APT_ENV = { DEBIAN_FRONTEND: "noninteractive" };

/**
 * Checks every requirement and provides what is missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureEnvironment } from "./mod.ts";
 * // Check only: report what is missing without installing anything.
 * const report = await ensureEnvironment({ install: false, log: () => {} });
 * // One item per requirement, and `ok` exactly when every one is present.
 * assert.ok(report.items.length > 0);
 * assert.equal(report.ok, report.items.every((i) => i.status !== "missing"));
 * ```
 *
 * @param options How to run commands and what to provide.
 * @returns One item per requirement; `ok` when all are present.
 * @throws {SetupError} When something missing cannot be provided.
 */
export async function ensureEnvironment(
  options: SetupOptions = {},
): Promise<SetupReport> {
  const run = options.run ?? runCommand;
  const log = options.log ?? ((line: string) => console.log(line));
  const denoPath = options.denoPath ?? Deno.execPath();
  const packages = options.packages ?? SYSTEM_PACKAGES;
  const install = options.install ?? true;

  const items: SetupItem[] = [];
  const missing: SystemPackage[] = [];
  for (const pkg of packages) {
    if ((await run(pkg.probe)).code === 0) {
      log(`setup: ${pkg.package} present`);
      items.push({ name: pkg.package, status: "present" });
    } else {
      missing.push(pkg);
    }
  }

  if (missing.length > 0) {
    if (!install) {
      for (const pkg of missing) {
        log(`setup: ${pkg.package} missing (${pkg.purpose})`);
        items.push({ name: pkg.package, status: "missing" });
      }
      // Without the Jupyter packages the kernel cannot be checked either.
      items.push({ name: KERNEL_ITEM, status: "missing" });
      return { items, ok: false };
    }
    await installPackages(missing, {
      run,
      log,
      isRoot: options.isRoot ?? Deno.uid() === 0,
    });
    for (const pkg of missing) {
      items.push({ name: pkg.package, status: "installed" });
    }
  }

  const kernel = await ensureKernel(
    { run, log, resolvePath: options.resolvePath ?? realPathOrSelf },
    denoPath,
    install,
  );
  items.push({ name: KERNEL_ITEM, status: kernel });
  return { items, ok: items.every((i) => i.status !== "missing") };
}

/** Installs `missing` with apt-get, as root or through password-less sudo. */
async function installPackages(
  missing: readonly SystemPackage[],
  ctx: { run: CommandRunner; log: (line: string) => void; isRoot: boolean },
): Promise<void> {
  const { run, log } = ctx;
  const names = missing.map((p) => p.package);
  const byHand = (sudo: string) =>
    `${sudo}apt-get update && ${sudo}apt-get install -y ${names.join(" ")}`;
  const what = `missing: ${
    missing.map((p) => `${p.package} (${p.purpose})`).join(", ")
  }`;

  let privileged: (argv: string[]) => [string[], CommandOptions];
  if (ctx.isRoot) {
    privileged = (argv) => [argv, { env: APT_ENV }];
  } else {
    const probe = ["sudo", "-n", "true"];
    const sudo = await run(probe);
    if (sudo.code !== 0) {
      throw new SetupError(
        `Cannot set up the environment: ${what}. ` +
          `Installing needs root, this process is not root and password-less ` +
          `sudo is not available: ${failure(probe, sudo)}\n` +
          `Run by hand: ${
            byHand("sudo ")
          }\nthen run \`deno task setup\` again.`,
      );
    }
    // sudo resets the environment; `env` carries the non-interactive
    // frontend through so debconf never waits for a terminal.
    privileged = (argv) => [
      ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", ...argv],
      {},
    ];
  }
  const hint = byHand(ctx.isRoot ? "" : "sudo ");

  for (const pkg of missing) log(`setup: ${pkg.package} installing`);
  for (
    const step of [
      ["apt-get", "update"],
      ["apt-get", "install", "-y", ...names],
    ]
  ) {
    const [argv, opts] = privileged(step);
    const result = await run(argv, opts);
    if (result.code !== 0) {
      throw new SetupError(
        `Cannot set up the environment: ${what}. ${failure(argv, result)}\n` +
          `Run by hand: ${hint}\nthen run \`deno task setup\` again.`,
      );
    }
  }
  // apt-get can succeed and still leave a program unusable (a broken
  // dependency, a different PATH): trust the probe, not the exit code.
  for (const pkg of missing) {
    const result = await run(pkg.probe);
    if (result.code !== 0) {
      throw new SetupError(
        `Cannot set up the environment: ${pkg.package} was installed but ` +
          `its check still fails: ${failure(pkg.probe, result)}`,
      );
    }
    log(`setup: ${pkg.package} installed`);
  }
}

/**
 * Registers the Deno Jupyter kernel unless it is already registered for
 * `denoPath`. Headless notebook runs start whatever binary the kernel spec
 * names, so a spec left by another Deno (an older npx cache, a system
 * install) would run the notebooks on the wrong version.
 */
async function ensureKernel(
  ctx: {
    run: CommandRunner;
    log: (line: string) => void;
    resolvePath: (path: string) => Promise<string>;
  },
  denoPath: string,
  install: boolean,
): Promise<SetupStatus> {
  const { run, log, resolvePath } = ctx;
  const target = await resolvePath(denoPath);
  const runsThisDeno = async (binary: string | null) =>
    binary !== null && await resolvePath(binary) === target;
  const registered = await registeredKernel(run);
  if (await runsThisDeno(registered)) {
    log(`setup: Deno Jupyter kernel present (${denoPath})`);
    return "present";
  }
  const now = registered === null
    ? "not registered"
    : `registered for ${registered}`;
  if (!install) {
    log(`setup: Deno Jupyter kernel missing (${now}, wanted ${denoPath})`);
    return "missing";
  }
  log(`setup: Deno Jupyter kernel installing (${now}, wanted ${denoPath})`);
  const argv = [denoPath, "jupyter", "--install", "--force"];
  const result = await run(argv);
  if (result.code !== 0) {
    throw new SetupError(
      `Cannot register the Deno Jupyter kernel: ${failure(argv, result)}\n` +
        `Run by hand: ${formatCommand(argv)}`,
    );
  }
  const after = await registeredKernel(run);
  if (!await runsThisDeno(after)) {
    throw new SetupError(
      `Cannot register the Deno Jupyter kernel: \`${
        formatCommand(argv)
      }\` succeeded but \`jupyter-kernelspec list --json\` shows ${
        after === null ? "no deno kernel" : `it running ${after}`
      } (a kernel spec earlier on JUPYTER_PATH may shadow it)`,
    );
  }
  log(`setup: Deno Jupyter kernel installed (${denoPath})`);
  return "registered";
}

/** The Deno binary the registered `deno` kernel runs, or null if none. */
async function registeredKernel(run: CommandRunner): Promise<string | null> {
  const argv = ["jupyter-kernelspec", "list", "--json"];
  const result = await run(argv);
  if (result.code !== 0) {
    throw new SetupError(
      `Cannot list Jupyter kernels: ${failure(argv, result)}`,
    );
  }
  let specs: unknown;
  try {
    specs = JSON.parse(result.stdout);
  } catch {
    throw new SetupError(
      `Cannot list Jupyter kernels: \`${
        formatCommand(argv)
      }\` printed no JSON: ${tail(result.stdout, 3)}`,
    );
  }
  const spec = (specs as {
    kernelspecs?: Record<string, { spec?: { argv?: unknown[] } }>;
  }).kernelspecs?.[DENO_KERNEL_NAME]?.spec;
  const binary = spec?.argv?.[0];
  return typeof binary === "string" ? binary : null;
}

/** The real path of `path`, or `path` itself when it cannot be resolved. */
async function realPathOrSelf(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return path;
  }
}

/** `` `cmd` failed (exit N): <stderr tail> `` for error messages. */
function failure(argv: readonly string[], result: CommandResult): string {
  const output = tail(result.stderr) || tail(result.stdout) || "no output";
  return `\`${formatCommand(argv)}\` failed (exit ${result.code}):\n${output}`;
}
