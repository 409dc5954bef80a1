/**
 * Helpers of the close tests: a close file in a temp folder over given
 * portfolios, and the statuses of a `close.json`.
 *
 * @module
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { projectPath } from "../../lib/mod.ts";

/** The sample book's two quarter-ends. */
export const SAMPLE = {
  "2025-09-30": projectPath("data/sample/portfolio_2025-09-30.parquet"),
  "2025-12-31": projectPath("data/sample/portfolio_2025-12-31.parquet"),
};

/** The sample rules. */
export const SAMPLE_RULES = projectPath("config/sample_rules.yaml");

/**
 * Writes `close.yaml` into `dir` with one entity per entry of `entities`
 * (name to its portfolio at each date); returns its path.
 */
export async function writeCloseFile(
  dir: string,
  entities: Record<string, Record<string, string>>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const dates = [
    ...new Set(Object.values(entities).flatMap((p) => Object.keys(p))),
  ].sort();
  const path = join(dir, "close.yaml");
  await Deno.writeTextFile(
    path,
    stringify({
      out: "out",
      rules: SAMPLE_RULES,
      dates,
      entities: Object.entries(entities).map(([name, portfolios]) => ({
        name,
        portfolios,
      })),
      ...extra,
    }),
  );
  return path;
}

/** Step id to status, from the `close.json` in `out`. */
export async function statuses(out: string): Promise<Record<string, string>> {
  const state = JSON.parse(await Deno.readTextFile(join(out, "close.json")));
  return Object.fromEntries(
    state.steps.map((s: { id: string; status: string }) => [s.id, s.status]),
  );
}

/** Every step of an entity over the sample's two dates, with `status`. */
export function sampleSteps(
  entity: string,
  status: string,
): Record<string, string> {
  return {
    [`run:${entity}-2025-09-30`]: status,
    [`run:${entity}-2025-12-31`]: status,
    [`movement:${entity}-2025-09-30_2025-12-31`]: status,
    [`export:${entity}`]: status,
    [`dashboard:${entity}`]: status,
  };
}

/** Modification time (ms) of every file under `dir`, by relative path. */
export async function mtimes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      const info = await Deno.stat(p);
      out[join(rel, e.name)] = info.mtime!.getTime();
      if (e.isDirectory) await walk(p, join(rel, e.name));
    }
  };
  await walk(dir, "");
  return out;
}
