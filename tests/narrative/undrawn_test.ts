/**
 * A valid run whose stage 2 holds only undrawn credit cards (issue 14):
 * 42 loans, of which the 5 at 45 days past due are cards with no balance,
 * a limit of 10,000 and no maturity, so stage 2 has an ECL on the undrawn
 * limit but a gross carrying amount of 0 and no coverage. The run must
 * complete with its narrative (the template words the missing coverage),
 * and so must the narrative of a movement into it and `explain`'s.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { portfolioFrame } from "../run/_portfolio.ts";
import { runPortfolio } from "../../lib/run/mod.ts";
import {
  buildFactSheet,
  explainSettings,
  type Narrative,
  readFactSheet,
  templateNarrative,
  writeNarrative,
} from "../../lib/narrative/mod.ts";

/** The book: stage-1 loans and the stage-2 cards, all undrawn. */
function undrawnBook(): pl.DataFrame {
  const card = pl.col("days_past_due").eq(45).and(
    pl.col("default_flag").not(),
  );
  const when = (v: unknown, col: string) =>
    pl.when(card).then(pl.lit(v)).otherwise(pl.col(col)).alias(col);
  const df = portfolioFrame(60).withColumns(
    when(0, "balance"),
    when("credit_card", "product"),
    when(10_000, "credit_limit"),
    when(null, "maturity_date"),
    when(null, "collateral_value"),
  );
  const stage1 = pl.col("days_past_due").eq(0)
    .and(pl.col("watchlist").not())
    .and(pl.col("default_flag").not())
    .and(pl.col("pd_12m_current").eq(pl.col("pd_12m_origination")));
  return df.filter(stage1.or(card)).withColumns(
    pl.lit(false).alias("watchlist"),
  );
}

Deno.test("a run whose stage 2 is all undrawn cards completes, its narrative wording the coverage that is not defined", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "narrative_undrawn" });
  try {
    const book = undrawnBook();
    assert.equal(book.height, 42);
    const cards = book.filter(pl.col("days_past_due").eq(45));
    assert.equal(cards.height, 5);
    assert.deepEqual(
      [...new Set(cards.getColumn("balance").toArray())],
      [0],
    );
    const file = `${tmp}/book_2025-12-31.parquet`;
    book.writeParquet(file);
    const run = await runPortfolio({
      portfolio: file,
      fx: "config/fx_rates.yaml",
      out: `${tmp}/runs`,
      runId: "q4",
    });
    assert.equal(run.manifest.status, "complete");
    const summary = JSON.parse(
      await Deno.readTextFile(`${run.dir}/summary.json`),
    );
    const s2 = summary.by_stage.find((g: { key: string }) =>
      String(g.key).endsWith("2")
    );
    // The case itself, read from the run's own summary.
    assert.equal(s2.gross_carrying_amount, 0);
    assert.ok(s2.ecl > 0);
    assert.equal(s2.coverage, null);

    const n = JSON.parse(
      await Deno.readTextFile(`${run.dir}/narrative.json`),
    ) as Narrative;
    assert.equal(n.provider, "template");
    assert.equal(n.fallback_reason, undefined);
    assert.equal(n.facts.facts["stage.2.coverage"], undefined);
    assert.match(
      n.text,
      /stage 2 [^;]*coverage not defined: no gross carrying amount/,
    );
    assert.ok(!n.text.includes("could not be written"), n.text);
    // The stage-2 ECL is quoted, and is the summary's (to the cent).
    assert.ok(
      n.text.includes(
        (s2.ecl as number).toLocaleString("en-US", {
          minimumFractionDigits: 2,
          maximumFractionDigits: 2,
        }),
      ),
    );
    const html = await Deno.readTextFile(`${run.dir}/report.html`);
    assert.ok(html.includes('<section id="narrative">'));

    // explain's path: the sheet of the folder, the template.
    const sheet = await readFactSheet(run.dir);
    const again = await writeNarrative(sheet, explainSettings());
    assert.equal(again.text, n.text);

    // A movement into the run: its narrative is written too.
    const ecl = summary.totals.ecl as number;
    const withMovement = buildFactSheet({
      summary,
      movement: {
        reporting_currency: "EUR",
        from: { run_id: "q3", reporting_date: "2025-09-30" },
        to: { run_id: "q4", reporting_date: "2025-12-31" },
        facilities: {
          stayed: 37,
          new: 5,
          derecognised: 0,
          written_off: 0,
          transferred: 0,
        },
        allowance: {
          lines: [
            { key: "opening", label: "Opening", total: ecl - 100 },
            { key: "new", label: "New financial assets", total: 100 },
            { key: "closing", label: "Closing", total: ecl },
          ],
        },
        by_product: [],
        warnings: [],
      },
    });
    const paragraphs = templateNarrative(withMovement);
    assert.ok(paragraphs.some((p) => p.topic === "movement"));
    assert.ok(
      paragraphs.every((p) => !p.text.includes("could not be written")),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
