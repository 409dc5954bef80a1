/**
 * Tests of the synthetic portfolio generator: determinism, schema, the stage
 * mix under an independent implementation of methodology §3, relations
 * between columns, the quarterly roll-forward and breakage injection.
 *
 * @module
 */
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { parse as parseYaml } from "yaml";
import {
  addMonths,
  generateBook,
  generatePortfolio,
  injectableCodes,
  monthsBetween,
  REFERENCE_FX,
  Rng,
  snapshotFiles,
} from "../../lib/generate/mod.ts";
import type { InjectedSidecar } from "../../lib/generate/mod.ts";
import {
  CHARACTERISTIC_COLUMNS,
  POLARS_TYPE,
  PORTFOLIO_COLUMNS,
  PORTFOLIO_SCHEMA,
} from "../../lib/schema.ts";
import { VALUE_RULES } from "../../lib/validation/codes.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DAY = 86_400_000;
const dayOfIso = (s: string) => Date.parse(s + "T00:00:00Z") / DAY;

type Row = Record<string, unknown>;
const rowsOf = (df: pl.DataFrame): Row[] => df.toRecords() as Row[];
/** Polars hands dates to JS as Date objects; compare as day numbers. */
const day = (v: unknown) => v === null ? null : (v as Date).getTime() / DAY;

/**
 * Methodology §3 with the reference thresholds, written independently of
 * the engine: the first rule that holds gives the stage.
 */
function referenceStage(r: Row): number {
  const dpd = r.days_past_due as number;
  const p0 = r.pd_12m_origination as number;
  const p1 = r.pd_12m_current as number;
  if (r.default_flag === true) return 3;
  if (dpd >= 90) return 3;
  if (dpd > 30) return 2;
  if (r.watchlist === true || r.forborne === true) return 2;
  if (p1 > 0.003 && p1 / p0 >= 2 && p1 - p0 >= 0.005) return 2;
  return 1;
}

async function sha256(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

// One shared book keeps the suite quick: 12 000 facilities, 4 quarters.
const BOOK = generateBook({
  loans: 12_000,
  seed: 2024,
  reportingDate: "2025-12-31",
  periods: 4,
  batchSize: 5_000,
});
const SNAPS = BOOK.map(rowsOf);

Deno.test("Rng() gives the same stream for the same seed and stream", () => {
  const a = new Rng(7, 3), b = new Rng(7, 3), c = new Rng(7, 4);
  const xs = Array.from({ length: 5 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.uniform()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.uniform()));
  // Mean of U(0,1) over 20 000 draws is 0.5 within 4 standard errors.
  const r = new Rng(1);
  let sum = 0;
  for (let i = 0; i < 20_000; i++) sum += r.uniform();
  assert.ok(Math.abs(sum / 20_000 - 0.5) < 4 * Math.sqrt(1 / 12 / 20_000));
});

Deno.test("addMonths() keeps month-end and monthsBetween() counts as §2", () => {
  const d = dayOfIso("2025-12-31");
  assert.equal(addMonths(d, 3, true), dayOfIso("2026-03-31"));
  assert.equal(addMonths(d, 6, true), dayOfIso("2026-06-30"));
  assert.equal(
    addMonths(dayOfIso("2026-06-30"), 3, true),
    dayOfIso("2026-09-30"),
  );
  assert.equal(addMonths(dayOfIso("2024-01-31"), 1), dayOfIso("2024-02-29"));
  // §2: 12*(2027-2025) + (3-12) + (15 > 31 ? 1 : 0) = 15.
  assert.equal(monthsBetween(d, dayOfIso("2027-03-15")), 15);
  // Day after: one more month (2026-01-20 vs 2025-12-10: 1 + 1).
  assert.equal(
    monthsBetween(dayOfIso("2025-12-10"), dayOfIso("2026-01-20")),
    2,
  );
});

/** Every column the generator writes: §1's, then the characteristics. */
const GENERATED_COLUMNS = [...PORTFOLIO_COLUMNS, ...CHARACTERISTIC_COLUMNS]
  .map((c) => c.name);

Deno.test("generateBook() returns PORTFOLIO_COLUMNS typed exactly as PORTFOLIO_SCHEMA, then the characteristics", () => {
  assert.equal(BOOK.length, 4);
  for (const df of BOOK) {
    assert.deepEqual(df.columns, GENERATED_COLUMNS);
    for (const c of df.columns) {
      const want = PORTFOLIO_SCHEMA[c as keyof typeof PORTFOLIO_SCHEMA] ??
        POLARS_TYPE[CHARACTERISTIC_COLUMNS.find((x) => x.name === c)!.kind];
      // pl.Utf8 is the older name of pl.String; the two print differently.
      const norm = (t: unknown) => String(t).replace("Utf8", "String");
      assert.equal(norm(df.schema[c]), norm(want), `column ${c}`);
    }
  }
  assert.equal(BOOK[0].height, 12_000);
  assert.equal(new Set(BOOK[0].getColumn("loan_id").toArray()).size, 12_000);
});

Deno.test("generateBook() stage mix under the reference §3 rules is 85-90 / 7-12 / 2-4 %", () => {
  for (const rows of SNAPS) {
    const counts = [0, 0, 0, 0];
    for (const r of rows) counts[referenceStage(r)]++;
    const share = (s: number) => counts[s] / rows.length;
    assert.ok(share(1) >= 0.85 && share(1) <= 0.90, `stage 1 ${share(1)}`);
    assert.ok(share(2) >= 0.07 && share(2) <= 0.12, `stage 2 ${share(2)}`);
    assert.ok(share(3) >= 0.02 && share(3) <= 0.04, `stage 3 ${share(3)}`);
  }
});

Deno.test("generateBook() previous_stage is the stage at the previous date", () => {
  for (let t = 1; t < SNAPS.length; t++) {
    const before = new Map(
      SNAPS[t - 1].map((r) => [r.loan_id as string, referenceStage(r)]),
    );
    let checked = 0;
    for (const r of SNAPS[t]) {
      const prev = before.get(r.loan_id as string);
      if (prev === undefined) {
        assert.equal(r.previous_stage, null, `new facility ${r.loan_id}`);
      } else {
        assert.equal(r.previous_stage, prev, `facility ${r.loan_id}`);
        checked++;
      }
    }
    assert.ok(checked > 10_000);
  }
  // First snapshot: drawn consistently; previous_stage 1 dominates stage 1.
  const s1 = SNAPS[0].filter((r) =>
    referenceStage(r) === 1 && r.previous_stage !== null
  );
  assert.ok(s1.filter((r) => r.previous_stage === 1).length / s1.length > 0.9);
});

Deno.test("generateBook() columns relate plausibly", async () => {
  const fx = parseYaml(
    await Deno.readTextFile(`${ROOT}config/fx_rates.yaml`),
  ) as {
    rates: Record<string, number>;
  };
  assert.deepEqual(REFERENCE_FX, fx.rates);
  const rows = SNAPS[0];
  const rep = dayOfIso("2025-12-31");
  const eur = (r: Row, v: number) => v * fx.rates[r.currency as string];
  const byProduct = (p: string) =>
    rows.filter((r) => r.product === p).map((r) => eur(r, r.balance as number));
  assert.ok(median(byProduct("mortgage")) > 5 * median(byProduct("consumer")));
  assert.ok(median(byProduct("consumer")) > median(byProduct("credit_card")));
  for (const r of rows) {
    assert.ok(r.currency as string in fx.rates, `currency ${r.currency}`);
    assert.ok(day(r.origination_date)! <= rep);
    const card = r.product === "credit_card";
    assert.equal(r.maturity_date === null, card, `maturity of ${r.loan_id}`);
    if (!card) assert.ok(day(r.maturity_date)! > rep);
    assert.equal(r.credit_limit !== null, card);
    if (card) assert.ok((r.credit_limit as number) >= (r.balance as number));
    assert.ok(
      (r.interest_rate as number) > 0 && (r.interest_rate as number) < 1,
    );
    assert.ok(
      (r.pd_12m_origination as number) > 0 &&
        (r.pd_12m_origination as number) < 1,
    );
  }
  // Mortgage LTV (balance / property value) is plausible: median 0.4-0.8.
  const ltv = rows.filter((r) => r.product === "mortgage").map((r) =>
    (r.balance as number) / (r.collateral_value as number)
  );
  assert.ok(ltv.every((x) => x > 0 && x < 1.3));
  const m = median(ltv);
  assert.ok(m > 0.4 && m < 0.8, `median LTV ${m}`);
  // Deterioration shows in current PD and days past due.
  const mean = (s: number, col: string) => {
    const xs = rows.filter((r) => referenceStage(r) === s).map((r) =>
      r[col] as number
    );
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  assert.ok(mean(2, "pd_12m_current") > 2 * mean(1, "pd_12m_current"));
  assert.ok(mean(3, "pd_12m_current") > mean(2, "pd_12m_current"));
  assert.ok(mean(2, "days_past_due") > 3 * mean(1, "days_past_due"));
  assert.ok(mean(3, "days_past_due") > 90);
  // Every product, the five countries and the Spanish communities appear.
  assert.equal(new Set(rows.map((r) => r.product)).size, 5);
  const regions = new Set(rows.map((r) => r.region));
  for (
    const c of ["Mexico", "Brazil", "Colombia", "Chile", "Peru", "Andalucía"]
  ) {
    assert.ok(regions.has(c), c);
  }
});

Deno.test("generateBook() rolls the book forward quarter by quarter", () => {
  const dates = ["2025-12-31", "2026-03-31", "2026-06-30", "2026-09-30"];
  BOOK.forEach((df, t) =>
    assert.deepEqual(
      [...new Set(df.getColumn("reporting_date").toArray().map(day))],
      [dayOfIso(dates[t])],
    )
  );
  let amortised = 0,
    exits = 0,
    writeOffs = 0,
    cures23 = 0,
    cures12 = 0,
    newLoans = 0;
  for (let t = 1; t < SNAPS.length; t++) {
    const prev = new Map(SNAPS[t - 1].map((r) => [r.loan_id as string, r]));
    const now = new Map(SNAPS[t].map((r) => [r.loan_id as string, r]));
    for (const [id, r] of prev) {
      if (!now.has(id)) {
        exits++;
        continue;
      }
      // A written-off facility is absent from later snapshots.
      assert.ok(
        !((r.write_off_amount as number) > 0),
        `${id} reappears after write-off`,
      );
    }
    for (const [id, r] of now) {
      const before = prev.get(id);
      if (!before) {
        newLoans++;
        const o = day(r.origination_date)!;
        assert.ok(
          o > dayOfIso(dates[t - 1]) && o <= dayOfIso(dates[t]),
          `origination of ${id}`,
        );
        continue;
      }
      const s0 = referenceStage(before), s1 = referenceStage(r);
      if (s0 === 3 && s1 === 2) cures23++;
      if (s0 === 2 && s1 === 1) cures12++;
      if (
        s0 === 1 && s1 === 1 &&
        (r.product === "mortgage" || r.product === "auto" ||
          r.product === "consumer")
      ) {
        assert.ok(
          (r.balance as number) < (before.balance as number),
          `${id} did not amortise`,
        );
        amortised++;
      }
      if (r.product === "sme" && s1 !== 3) {
        assert.equal(r.balance, before.balance);
      }
    }
    for (const r of SNAPS[t]) {
      const w = r.write_off_amount as number;
      if (w > 0) {
        writeOffs++;
        assert.equal(r.balance, 0);
        assert.equal(r.default_flag, true);
        assert.equal(r.previous_stage, 3);
      } else assert.equal(w, 0);
    }
  }
  for (const r of SNAPS[0]) assert.equal(r.write_off_amount, 0);
  assert.ok(
    amortised > 10_000 && exits > 500 && newLoans > 1_500,
    `${amortised} ${exits} ${newLoans}`,
  );
  assert.ok(
    writeOffs > 50 && cures23 > 5 && cures12 > 100,
    `${writeOffs} ${cures23} ${cures12}`,
  );
});

Deno.test("generatePortfolio() gives byte-identical files for a seed, different for another", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gen-test-" });
  try {
    const run = (seed: number, out: string) =>
      generatePortfolio({
        loans: 3_000,
        seed,
        reportingDate: "2025-12-31",
        periods: 2,
        out: `${dir}/${out}`,
        batchSize: 1_000,
      });
    const a = await run(11, "a"),
      b = await run(11, "b"),
      c = await run(12, "c");
    assert.deepEqual(
      a.snapshots.map((s) => s.path.split("/").pop()),
      ["portfolio_2025-12-31.parquet", "portfolio_2026-03-31.parquet"],
    );
    for (let t = 0; t < 2; t++) {
      const [ha, hb, hc] = await Promise.all(
        [a, b, c].map((r) => sha256(r.snapshots[t].path)),
      );
      assert.equal(ha, hb);
      assert.notEqual(ha, hc);
    }
    // The FX tables too, except the first date's: the reference rates
    // whatever the seed.
    const fxHashes = await Promise.all(
      [a, b, c].map((r) =>
        Promise.all(r.snapshots.map((s) => sha256(s.fxPath)))
      ),
    );
    assert.deepEqual(fxHashes[0], fxHashes[1]);
    assert.notEqual(fxHashes[0][1], fxHashes[2][1]);
    // The file holds what generateBook() returns for the same options.
    const inMemory = generateBook({
      loans: 3_000,
      seed: 11,
      reportingDate: "2025-12-31",
      periods: 2,
      batchSize: 1_000,
    });
    assert.ok(
      pl.readParquet(a.snapshots[1].path).frameEqual(inMemory[1], true),
    );
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/a`)].map((e) => e.name).sort(),
      [
        "fx_rates_2025-12-31.yaml",
        "fx_rates_2026-03-31.yaml",
        "portfolio_2025-12-31.parquet",
        "portfolio_2026-03-31.parquet",
      ],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The codes a row breaks, checked independently of the generator. */
function brokenCodes(r: Row, rep: number, products: Set<string>): string[] {
  const out: string[] = [];
  const num = (c: string) => r[c] as number | null;
  for (
    const c of [
      "loan_id",
      "reporting_date",
      "origination_date",
      "product",
      "currency",
      "balance",
      "interest_rate",
      "days_past_due",
      "pd_12m_origination",
      "pd_12m_current",
    ]
  ) if (r[c] === null || r[c] === "") out.push(`NULL_${c.toUpperCase()}`);
  for (
    const c of [
      "balance",
      "credit_limit",
      "interest_rate",
      "pd_12m_origination",
      "pd_12m_current",
      "collateral_value",
      "write_off_amount",
    ]
  ) {
    const v = num(c);
    if (v !== null && !Number.isFinite(v)) {
      out.push(`UNPARSEABLE_${c.toUpperCase()}`);
    }
  }
  const ok = (v: number | null) => v !== null && Number.isFinite(v);
  if (r.reporting_date !== null && day(r.reporting_date) !== rep) {
    out.push("REPORTING_DATE_MISMATCH");
  }
  if (r.origination_date !== null && day(r.origination_date)! > rep) {
    out.push("ORIGINATION_AFTER_REPORTING");
  }
  if (r.maturity_date !== null && day(r.maturity_date)! <= rep) {
    out.push("MATURITY_NOT_AFTER_REPORTING");
  }
  if (r.maturity_date === null && r.product !== "credit_card") {
    out.push("MATURITY_MISSING");
  }
  if (r.product !== null && !products.has(r.product as string)) {
    out.push("PRODUCT_UNKNOWN");
  }
  if (r.currency !== null && !/^[A-Z]{3}$/.test(r.currency as string)) {
    out.push("CURRENCY_INVALID");
  }
  if (ok(num("balance")) && num("balance")! < 0) out.push("BALANCE_NEGATIVE");
  if (
    ok(num("credit_limit")) && ok(num("balance")) &&
    num("credit_limit")! < num("balance")!
  ) {
    out.push("CREDIT_LIMIT_BELOW_BALANCE");
  }
  const rate = num("interest_rate");
  if (ok(rate) && (rate! < 0 || rate! >= 1)) {
    out.push("INTEREST_RATE_OUT_OF_RANGE");
  }
  if (num("days_past_due") !== null && num("days_past_due")! < 0) {
    out.push("DPD_NEGATIVE");
  }
  const p0 = num("pd_12m_origination"), p1 = num("pd_12m_current");
  if (ok(p0) && (p0! <= 0 || p0! >= 1)) out.push("PD_ORIGINATION_OUT_OF_RANGE");
  if (ok(p1) && (p1! <= 0 || p1! > 1)) out.push("PD_CURRENT_OUT_OF_RANGE");
  if (ok(num("collateral_value")) && num("collateral_value")! < 0) {
    out.push("COLLATERAL_NEGATIVE");
  }
  const ps = num("previous_stage");
  if (ps !== null && ![1, 2, 3].includes(ps)) {
    out.push("PREVIOUS_STAGE_INVALID");
  }
  if (ok(num("write_off_amount")) && num("write_off_amount")! < 0) {
    out.push("WRITE_OFF_NEGATIVE");
  }
  return out;
}

Deno.test("generatePortfolio() injects every code and lists each broken row", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gen-inject-" });
  try {
    const share = 0.05;
    const res = await generatePortfolio({
      loans: 2_000,
      seed: 3,
      reportingDate: "2025-12-31",
      periods: 2,
      out: dir,
      batchSize: 700,
      injectBroken: share,
    });
    const products = new Set([
      "mortgage",
      "auto",
      "consumer",
      "credit_card",
      "sme",
    ]);
    for (const snap of res.snapshots) {
      const side = JSON.parse(
        await Deno.readTextFile(snap.injectedPath!),
      ) as InjectedSidecar;
      const codes = injectableCodes("parquet");
      assert.ok(codes.length >= 33);
      for (const c of Object.keys(VALUE_RULES)) assert.ok(codes.includes(c), c);
      for (const c of codes) {
        assert.ok(side.codes[c] >= 1, `code ${c} not injected`);
      }
      const rows = rowsOf(pl.readParquet(snap.path));
      const rep = dayOfIso(snap.reportingDate);
      // Duplicate partners are listed too, so at least share * rows entries.
      assert.ok(side.rows.length >= Math.round(rows.length * share) - 3);
      const listed = new Map<number, string>();
      for (const e of side.rows) listed.set(e.row, e.code);
      const idCounts = new Map<unknown, number>();
      for (const r of rows) {
        idCounts.set(r.loan_id, (idCounts.get(r.loan_id) ?? 0) + 1);
      }
      rows.forEach((r, i) => {
        const found = brokenCodes(r, rep, products);
        if ((idCounts.get(r.loan_id) ?? 0) > 1 && r.loan_id !== null) {
          found.push("LOAN_ID_DUPLICATE");
        }
        const code = listed.get(i);
        if (code === undefined) {
          assert.deepEqual(found, [], `row ${i} is broken but not listed`);
        } else {assert.ok(
            found.includes(code),
            `row ${i}: ${code} not in ${found}`,
          );}
      });
      for (const e of side.rows) {
        if (e.loan_id !== null) assert.equal(rows[e.row].loan_id, e.loan_id);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generatePortfolio() writes unparseable text into CSV cells", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gen-csv-" });
  try {
    const res = await generatePortfolio({
      loans: 1_500,
      seed: 9,
      reportingDate: "2025-12-31",
      out: dir,
      format: "csv",
      injectBroken: 0.05,
    });
    const snap = res.snapshots[0];
    assert.ok(snap.path.endsWith("portfolio_2025-12-31.csv"));
    const side = JSON.parse(
      await Deno.readTextFile(snap.injectedPath!),
    ) as InjectedSidecar;
    const codes = injectableCodes("csv");
    for (const c of codes) {
      assert.ok(side.codes[c] >= 1, `code ${c} not injected`);
    }
    const text = pl.readCSV(await Deno.readTextFile(snap.path), {
      inferSchemaLength: 0,
    });
    assert.equal(text.height, 1_500);
    assert.deepEqual(text.columns, GENERATED_COLUMNS);
    const parses: Record<string, (v: string) => boolean> = {
      date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v),
      float: (v) => Number.isFinite(Number(v)),
      int: (v) => /^-?\d+$/.test(v),
      bool: (v) => v === "true" || v === "false",
    };
    const kind = new Map(PORTFOLIO_COLUMNS.map((c) => [c.name, c.kind]));
    for (
      const e of side.rows.filter((e) => e.code.startsWith("UNPARSEABLE_"))
    ) {
      const col = e.code.slice("UNPARSEABLE_".length).toLowerCase();
      const v = text.getColumn(col).get(e.row) as string | null;
      assert.ok(v !== null && v !== "", `${e.code} row ${e.row} is empty`);
      assert.ok(
        !parses[kind.get(col as never)!](v),
        `${e.code} row ${e.row}: ${v} parses`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshotFiles() lists the written snapshots oldest first and nothing else", async () => {
  const out = await Deno.makeTempDir();
  const r = await generatePortfolio({
    loans: 50,
    seed: 1,
    reportingDate: "2025-06-30",
    periods: 3,
    out,
  });
  await Deno.writeTextFile(`${out}/notes.txt`, "");
  assert.deepEqual(await snapshotFiles(out), r.snapshots.map((s) => s.path));
  assert.deepEqual(await snapshotFiles(`${out}/missing`), []);
  await Deno.remove(out, { recursive: true });
});

Deno.test("generatePortfolio() breaks each injected row once, in row order, even at a high share", async () => {
  // At share 0.4 the strata of broken rows are 1.25 pairs wide; drawing
  // within overlapping bounds picked one row twice (840 of 8,195 entries
  // at 20,000 rows), so a row carried two codes and one could undo the
  // other (docs/generator.md: one rule code per row).
  const dir = await Deno.makeTempDir({ prefix: "gen-inject-dense-" });
  try {
    const res = await generatePortfolio({
      loans: 4_000,
      seed: 5,
      reportingDate: "2025-12-31",
      out: dir,
      format: "csv",
      batchSize: 1_500,
      injectBroken: 0.4,
    });
    const side = JSON.parse(
      await Deno.readTextFile(res.snapshots[0].injectedPath!),
    ) as InjectedSidecar;
    const rows = side.rows.map((r) => r.row);
    assert.equal(new Set(rows).size, rows.length, "a row is listed twice");
    assert.deepEqual(rows, [...rows].sort((a, b) => a - b));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
