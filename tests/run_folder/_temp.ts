/**
 * Temporary folders for the run-folder tests, removed however the test
 * ends.
 *
 * @module
 */

/** Runs `fn` in a fresh temporary folder and removes it afterwards. */
export async function inTempDir<T>(
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "run_folder_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The names in a folder, sorted. */
export async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}
