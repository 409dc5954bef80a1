/**
 * The setup step (`deno task setup`, run first by `deno task test`): the
 * Debian packages and the Deno Jupyter kernel the project needs beyond npm
 * packages, installed only when missing.
 *
 * @module
 */
export {
  type CommandOptions,
  type CommandResult,
  type CommandRunner,
  runCommand,
} from "./command.ts";
export {
  DENO_KERNEL_NAME,
  SYSTEM_PACKAGES,
  type SystemPackage,
} from "./requirements.ts";
export {
  ensureEnvironment,
  KERNEL_ITEM,
  SetupError,
  type SetupItem,
  type SetupOptions,
  type SetupReport,
  type SetupStatus,
} from "./ensure.ts";
