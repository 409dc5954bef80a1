/**
 * Fixtures of the plugin tests: a temp folder with a small portfolio and a
 * rules file (the reference rules plus a `plugins` list), and plugin
 * modules written as files, as a bank would write them.
 *
 * @module
 */
import { parse, stringify } from "yaml";
import { writePortfolio } from "../run/_portfolio.ts";

/** The library's public face, for the plugin modules written here. */
export const LIB = new URL("../../lib/mod.ts", import.meta.url).href;

/** A temp folder with `book.parquet` of `n` loans. */
export async function workspace(
  n = 120,
): Promise<{ dir: string; portfolio: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "plugin_test_" });
  const portfolio = writePortfolio(`${dir}/book.parquet`, n);
  return {
    dir,
    portfolio,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Writes a plugin module `name` into `dir`; returns its path. */
export async function writeModule(
  dir: string,
  name: string,
  source: string,
): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, source);
  return path;
}

/**
 * Writes `rules.yaml` into `dir`: the reference rules with `plugins`
 * (none when undefined); returns its path.
 */
export async function writeRules(
  dir: string,
  plugins?: unknown[],
  name = "rules.yaml",
): Promise<string> {
  const text = await Deno.readTextFile(
    new URL("../../config/ifrs9_rules.yaml", import.meta.url),
  );
  const doc = parse(text) as Record<string, unknown>;
  if (plugins !== undefined) doc.plugins = plugins;
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, stringify(doc));
  return path;
}
