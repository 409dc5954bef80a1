/**
 * A facility explanation replays the engine from the rules alone, so it
 * refuses a run whose plugins changed its figures instead of explaining
 * the facility with the wrong stage or ECL.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { projectPath, runPortfolio, UserError } from "../../lib/mod.ts";
import { explainFacility } from "../../lib/server/workings.ts";
import { writePortfolio } from "../run/_portfolio.ts";

Deno.test("explainFacility() refuses a run that used plugins, naming them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plugin = join(dir, "noop.ts");
    await Deno.writeTextFile(
      plugin,
      "export default () => ({ name: 'noop', afterStaging: () => {} });\n",
    );
    const rules = join(dir, "rules.yaml");
    await Deno.writeTextFile(
      rules,
      `${await Deno.readTextFile(
        projectPath("config/sample_rules.yaml"),
      )}\nplugins:\n  - module: ./noop.ts\n`,
    );
    const portfolio = writePortfolio(join(dir, "book.parquet"), 10);
    const run = await runPortfolio({
      portfolio,
      rules,
      out: dir,
      runId: "q4",
      report: false,
    });
    await assert.rejects(
      () => explainFacility(run.dir, "L0000001"),
      (e: Error) =>
        e instanceof UserError &&
        /^run_id: run q4 used plugins \(noop\), whose hooks a facility explanation does not replay yet/
          .test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
