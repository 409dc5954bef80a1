/**
 * The IFRS 7 tables and the capital summary from additive cells (issue 17):
 * a book split into three slices, each slice's cells written to and read
 * back from a part folder as Parquet, merged, give exactly (deepEqual) the
 * tables and the capital summary of the whole book; the totals are checked
 * against sums computed here facility by facility, the whole-cent parts
 * in exact integer arithmetic (BigInt).
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  batchFacilities,
  disclosureCells,
  disclosureCellsOf,
  disclosuresFromCells,
  ifrs7Tables,
  mergeDisclosureCells,
  readCapitalCells,
  readDisclosureCells,
  writeCapitalCells,
  writeDisclosureCells,
} from "../../lib/disclosure/mod.ts";
import {
  capitalCells,
  capitalSummary,
  capitalSummaryFromCells,
  mergeCapitalCells,
} from "../../lib/capital/mod.ts";
import { checkRules, loadRules } from "../../lib/rules.ts";
import { DEFAULT_RULES, runPortfolio } from "../../lib/run/mod.ts";
import { UserError } from "../../lib/errors.ts";
import { portfolioFrame } from "../run/_portfolio.ts";

const CAPITAL = `
capital:
  asset_classes:
    products:
      mortgage: residential_mortgage
      credit_card: qualifying_revolving_retail
      sme: corporate
      consumer: other_retail
  lgd: { downturn_add_on: 0.1 }
  maturity: remaining
  pd_floor: 0.02
  lgd_floor: 0.1
`;

/** Rows `i` with `i % 3 === k`: slices that interleave, not blocks. */
function slice(frame: pl.DataFrame, k: number): pl.DataFrame {
  return frame.withRowIndex("__row").filter(
    pl.col("__row").modulo(3).eq(k),
  ).drop("__row");
}

/** Whole cents of `v`, exactly, and the sum of them over `values`. */
function centsSum(values: number[]): bigint {
  return values.reduce((a, v) => a + BigInt(Math.round(v * 100)), 0n);
}

Deno.test("a run's IFRS 7 tables and capital summary equal the merge of three slices' cells, read back from Parquet", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const n = 300;
    // Every fifth facility unrated: those fall back to the master scale.
    const book = portfolioFrame(n).withColumns(
      pl.Series(
        "rating",
        Array.from({ length: n }, (_, i) => i % 5 === 4 ? null : `R0${i % 4}`),
        pl.Utf8,
      ),
    );
    const portfolio = `${tmp}/book.parquet`;
    book.writeParquet(portfolio);
    const rules = `${tmp}/rules.yaml`;
    await Deno.writeTextFile(
      rules,
      (await Deno.readTextFile(DEFAULT_RULES)) + CAPITAL,
    );
    const run = await runPortfolio({
      portfolio,
      rules,
      out: `${tmp}/runs`,
      runId: "whole",
      report: false,
    });
    // What the run wrote, read back independently.
    const summary = JSON.parse(
      await Deno.readTextFile(`${run.dir}/summary.json`),
    );
    const results = pl.readParquet(`${run.dir}/loan_results.parquet`);
    const carrying = pl.readParquet(`${run.dir}/carrying_amounts.parquet`);
    assert.equal(results.height, n);
    const opts = {
      reportingCurrency: summary.reporting_currency,
      rates: summary.fx.rates,
      simplifiedProducts: summary.simplified_products,
    };

    const withCapital = await loadRules(rules);
    const dParts = [], kParts = [];
    for (let k = 0; k < 3; k++) {
      const r = slice(results, k), c = slice(carrying, k), v = slice(book, k);
      const dir = `${tmp}/part-${k}`;
      await Deno.mkdir(dir);
      writeDisclosureCells(
        dir,
        await disclosureCells(batchFacilities(r, c, v), opts),
      );
      writeCapitalCells(dir, await capitalCells(r.lazy(), withCapital));
      dParts.push(await readDisclosureCells(dir));
      kParts.push((await readCapitalCells(dir))!);
    }
    const disclosures = disclosuresFromCells(
      mergeDisclosureCells(dParts),
      opts,
    );
    assert.deepEqual(disclosures, summary.disclosures);
    const capital = capitalSummaryFromCells(
      mergeCapitalCells(kParts),
      withCapital,
    );
    assert.deepEqual(capital, summary.capital);

    // Independent checks: the book's counts, and the totals as exact sums
    // of whole cents per currency converted at the summary's rates.
    assert.equal(disclosures.totals.count, n);
    assert.equal(disclosures.grade_source, "rating_and_master_scale");
    const rows = results.toRecords() as Record<string, number & string>[];
    const gca = new Map(
      carrying.toRecords().map((
        r,
      ) => [r.loan_id, Number(r.gross_carrying_amount)]),
    );
    let gcaTotal = 0;
    for (const cur of Object.keys(opts.rates)) {
      const mine = rows.filter((r) => r.currency === cur);
      gcaTotal += Number(centsSum(mine.map((r) => gca.get(r.loan_id)!))) /
        100 * opts.rates[cur];
    }
    assert.ok(
      Math.abs(disclosures.totals.gross_carrying_amount - gcaTotal) < 0.005,
    );
    assert.equal(
      disclosures.credit_impaired.count,
      rows.filter((r) => Number(r.stage) === 3).length,
    );
    const included = rows.filter((r) => r.rwa !== null);
    assert.ok(included.length > 0 && included.length < n);
    assert.equal(capital.facilities, included.length);
    assert.equal(capital.excluded_facilities, n - included.length);
    const rwa = included.reduce(
      (a, r) => a + Number(r.rwa) * Number(r.fx_rate),
      0,
    );
    assert.ok(Math.abs(capital.totals.rwa - rwa) < 0.005);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/**
 * A hand-made book whose amounts run to 9e10 (cents above 2^32, so the
 * high parts of the precise sums carry), with a simplified product,
 * unrated and ungraded facilities, PDs of 1, nulls and a product with no
 * asset class.
 */
function bigBook(n: number): pl.DataFrame {
  let seed = 7;
  const u = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const products = ["mortgage", "sme", "trade_receivable", "auto"];
  const currencies = ["EUR", "USD", "MXN"];
  const rows = Array.from({ length: n }, (_, i) => {
    const product = products[i % 4];
    const stage = 1 + (i % 7 === 0 ? 2 : i % 5 === 0 ? 1 : 0);
    const gca = Math.round(u() * 9e12) / 100;
    const ecl = Math.round(gca * u() * (stage === 3 ? 120 : 5)) / 100;
    const ead = gca * 1.01;
    const fx = [1, 0.5, 0.05][i % 3];
    const pd = product === "trade_receivable"
      ? null
      : i % 11 === 0
      ? 1
      : 0.0001 + u() * 0.3;
    const capitalised = product === "mortgage" || product === "sme";
    return {
      loan_id: `B${i}`,
      currency: currencies[i % 3],
      product,
      segment: i % 2 === 0 ? null : product,
      stage,
      ecl,
      gross_carrying_amount: gca,
      write_off_amount: i % 9 === 0 ? Math.round(u() * 1e7) / 100 : null,
      pd_12m: pd,
      rating: i % 3 === 0 ? null : `R0${1 + (i % 6)}`,
      collateral_value: product === "mortgage"
        ? Math.round(gca * 130) / 100
        : null,
      ead,
      fx_rate: fx,
      ead_rc: ead * fx,
      ecl_rc: ecl * fx,
      rwa: capitalised ? ead * 0.6 : null,
      capital_k: capitalised ? 0.048 : null,
      regulatory_el: capitalised ? ead * 0.01 : null,
    };
  });
  return pl.DataFrame(rows).withColumns(
    pl.col("stage").cast(pl.Int32),
    pl.col("segment").cast(pl.Utf8),
    pl.col("rating").cast(pl.Utf8),
    pl.col("pd_12m").cast(pl.Float64),
    pl.col("collateral_value").cast(pl.Float64),
    pl.col("write_off_amount").cast(pl.Float64),
    pl.col("rwa").cast(pl.Float64),
    pl.col("capital_k").cast(pl.Float64),
    pl.col("regulatory_el").cast(pl.Float64),
  );
}

Deno.test("cells of slices of a book with amounts above 2^32 cents merge into the whole book's tables and capital exactly", async () => {
  const { rules, issues } = checkRules({
    reporting_currency: "EUR",
    products: {
      mortgage: { repayment: "annuity" },
      sme: { repayment: "bullet" },
      auto: { repayment: "annuity" },
    },
    scenarios: [{ name: "base", weight: 1, pd_multiplier: [1] }],
    capital: {
      asset_classes: {
        products: { mortgage: "residential_mortgage", sme: "corporate" },
      },
      lgd: { regulatory: 0.45 },
    },
  });
  assert.deepEqual(issues, []);
  const book = bigBook(500);
  const opts = {
    reportingCurrency: "EUR",
    rates: { EUR: 1, USD: 0.5, MXN: 0.05 },
    simplifiedProducts: ["trade_receivable"],
  };
  const whole = await ifrs7Tables(book.lazy(), opts);
  const merged = disclosuresFromCells(
    mergeDisclosureCells(
      await Promise.all(
        [0, 1, 2].map((k) => disclosureCells(slice(book, k).lazy(), opts)),
      ),
    ),
    opts,
  );
  assert.deepEqual(merged, whole);
  const capital = capitalSummaryFromCells(
    mergeCapitalCells(
      await Promise.all(
        [0, 1, 2].map((k) => capitalCells(slice(book, k).lazy(), rules!)),
      ),
    ),
    rules!,
  );
  assert.deepEqual(capital, await capitalSummary(book.lazy(), rules!));

  // The amounts are large enough for the high parts to matter.
  const rows = book.toRecords() as Record<string, number & string>[];
  assert.ok(rows.some((r) => r.gross_carrying_amount * 100 > 2 ** 32));
  // Totals by hand: exact cents per currency, converted once.
  let gca = 0, collateral = 0, writtenOff = 0;
  for (const [cur, rate] of Object.entries(opts.rates)) {
    const mine = rows.filter((r) => r.currency === cur);
    gca += Number(centsSum(mine.map((r) => r.gross_carrying_amount))) / 100 *
      rate;
    collateral += Number(
      centsSum(
        mine.filter((r) => r.stage === 3).map((r) => r.collateral_value ?? 0),
      ),
    ) / 100 * rate;
    writtenOff += Number(centsSum(mine.map((r) => r.write_off_amount ?? 0))) /
      100 * rate;
  }
  const cent = (a: number, b: number, what: string) =>
    assert.ok(Math.abs(a - b) < 0.005, `${what}: ${a} vs ${b}`);
  cent(merged.totals.gross_carrying_amount, gca, "gross carrying amount");
  cent(merged.credit_impaired.collateral_value!, collateral, "collateral");
  cent(merged.written_off.written_off_in_period!, writtenOff, "written off");
  assert.equal(
    merged.by_column.simplified.count,
    rows.filter((r) => r.product === "trade_receivable").length,
  );
  assert.equal(merged.grades.at(-1), "(ungraded)");
  // Included: mortgages and SMEs; the rest count as excluded.
  const included = rows.filter((r) => r.rwa !== null);
  assert.equal(capital.facilities, included.length);
  assert.equal(capital.excluded_facilities, rows.length - included.length);
  // Defaulted pool: stage 3, or a PD of 1 (floored PD 1).
  const defaulted = included.filter((r) => r.stage === 3 || r.pd_12m === 1);
  assert.equal(
    capital.by_asset_class_stage.filter((g) => g.stage === 3).reduce(
      (a, g) => a + g.count,
      0,
    ),
    included.filter((r) => r.stage === 3).length,
  );
  const elD = defaulted.reduce(
    (a, r) => a + r.regulatory_el * r.fx_rate,
    0,
  );
  assert.ok(
    Math.abs(capital.el_vs_allowance.defaulted.regulatory_el - elD) <
      1e-6 * elD,
  );
});

Deno.test("merged cells keep the collateral of the slices that have the column; a slice without it adds nothing", async () => {
  const book = bigBook(60);
  const opts = {
    reportingCurrency: "EUR",
    rates: { EUR: 1, USD: 0.5, MXN: 0.05 },
    simplifiedProducts: [],
  };
  const withCollateral = slice(book, 0);
  const without = slice(book, 1).drop("collateral_value", "write_off_amount");
  const merged = disclosuresFromCells(
    mergeDisclosureCells([
      await disclosureCells(withCollateral.lazy(), opts),
      await disclosureCells(without.lazy(), opts),
    ]),
    opts,
  );
  const alone = await ifrs7Tables(withCollateral.lazy(), opts);
  assert.equal(merged.credit_impaired.collateral_available, true);
  assert.equal(
    merged.credit_impaired.collateral_value,
    alone.credit_impaired.collateral_value,
  );
  assert.equal(
    merged.written_off.written_off_in_period,
    alone.written_off.written_off_in_period,
  );
  assert.equal(merged.totals.count, withCollateral.height + without.height);
  // No slice: empty tables, nothing available.
  const none = disclosuresFromCells(mergeDisclosureCells([]), opts);
  assert.equal(none.totals.count, 0);
  assert.equal(none.credit_impaired.collateral_value, null);
});

Deno.test("a part folder whose cells file is missing or not cells is refused, naming the folder, the file and the column", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await assert.rejects(
      readDisclosureCells(tmp),
      (e: Error) =>
        e instanceof UserError &&
        e.message.includes(tmp) &&
        /disclosure_cells\.parquet: file is missing/.test(e.message),
    );
    // No capital cells: a part whose rules have no capital section.
    assert.equal(await readCapitalCells(tmp), null);
    pl.DataFrame({ grade: ["G01"], count: [1] }).writeParquet(
      `${tmp}/disclosure_cells.parquet`,
    );
    await assert.rejects(
      readDisclosureCells(tmp),
      /disclosure_cells\.parquet: column column is missing, so it holds no disclosure cells/,
    );
    pl.DataFrame({ included: [true], count: ["1"] }).writeParquet(
      `${tmp}/capital_cells.parquet`,
    );
    await assert.rejects(
      readCapitalCells(tmp),
      /capital_cells\.parquet: column asset_class is missing/,
    );
    const book = bigBook(10);
    const cells = await disclosureCells(book.lazy(), {
      simplifiedProducts: [],
    });
    assert.throws(
      () =>
        disclosureCellsOf(
          cells.frame.withColumns(pl.col("count").cast(pl.Utf8)),
          "x.parquet",
        ),
      /x\.parquet: column count is String, not Float64/,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
