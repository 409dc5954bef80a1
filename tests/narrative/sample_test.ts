/**
 * The offline narrative of the committed sample book, checked figure by
 * figure: both quarter-ends are run (`config/sample_rules.yaml`), the
 * movement between them is written, and in each `narrative.json` (the
 * later run's and the movement's):
 *
 * - every number in each paragraph of the text is a written form of one
 *   of the facts the paragraph says it quotes (or a date, a stage number,
 *   a reference to a standard), read with this test's own tokenizer;
 * - every fact quoted has the value the test reads itself from
 *   `summary.json`, `data_quality.json` and `movement.json` (a key of the
 *   file, or one division or subtraction of keys), and the text writes it
 *   rounded correctly;
 * - `report.html` and `movement.html` show the narrative near the top,
 *   saying the template wrote it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { runPortfolio } from "../../lib/run/mod.ts";
import {
  computeMovement,
  writeMovementOutputs,
} from "../../lib/movement/mod.ts";
import { readRunFolder } from "../../lib/run_folder/mod.ts";
import type { Narrative } from "../../lib/narrative/mod.ts";

const root = await Deno.makeTempDir({ prefix: "narrative_sample_" });
const RULES = "config/sample_rules.yaml";

// deno-lint-ignore no-explicit-any
type Json = any;

/** Both runs and the movement, once for the file. */
const book = (async () => {
  const dirs: string[] = [];
  for (const date of ["2025-09-30", "2025-12-31"]) {
    const run = await runPortfolio({
      portfolio: `data/sample/portfolio_${date}.parquet`,
      rules: RULES,
      out: `${root}/runs`,
      runId: date,
    });
    dirs.push(run.dir);
  }
  const { movement, facilities } = await computeMovement(
    await readRunFolder(dirs[0], { trusted: true }),
    await readRunFolder(dirs[1], { trusted: true }),
  );
  await writeMovementOutputs(movement, facilities, `${root}/movement`);
  const read = async (path: string) =>
    JSON.parse(await Deno.readTextFile(path));
  return {
    dirs,
    summary: await read(`${dirs[1]}/summary.json`),
    dataQuality: await read(`${dirs[1]}/data_quality.json`),
    movement: await read(`${root}/movement/movement.json`),
    runNarrative: await read(`${dirs[1]}/narrative.json`) as Narrative,
    movementNarrative: await read(
      `${root}/movement/narrative.json`,
    ) as Narrative,
  };
})();

/**
 * The value of a fact id read from the files by this test, independently
 * of lib/narrative: a key, or one division or subtraction of keys.
 */
function expected(
  id: string,
  f: { summary: Json; dataQuality: Json; movement: Json },
): number {
  const s = f.summary, t = s.totals;
  const lines = (r: Json) =>
    Object.fromEntries(r.lines.map((l: Json) => [l.key, l.total]));
  let m: RegExpMatchArray | null;
  if ((m = id.match(/^totals\.(\w+)$/))) {
    return m[1] === "overlay_change" ? t.ecl - t.ecl_model : t[m[1]];
  }
  if ((m = id.match(/^stage\.(\d)\.(\w+)$/))) {
    const g = s.by_stage.find((g: Json) => g.key === m![1]);
    if (m[2] === "gca_share") {
      return g.gross_carrying_amount / t.gross_carrying_amount;
    }
    if (m[2] === "ecl_share") return g.ecl / t.ecl;
    return g[m[2]];
  }
  if (
    (m = id.match(/^(product|segment)\.(.+)\.(ecl|ecl_share|coverage|count)$/))
  ) {
    const g = s[`by_${m[1]}`].find((g: Json) => g.key === m![2]);
    return m[3] === "ecl_share" ? g.ecl / t.ecl : g[m[3]];
  }
  if ((m = id.match(/^overlay\.(.+)\.(ecl_impact|facilities)$/))) {
    return s.overlays.find((o: Json) => o.name === m![1])[m[2]];
  }
  if ((m = id.match(/^dq\.rule\.(.+)\.rows_failed$/))) {
    return f.dataQuality.rules.find((r: Json) => r.code === m![1]).rows_failed;
  }
  if ((m = id.match(/^dq\.(\w+)$/))) return f.dataQuality[m[1]];
  const mv = f.movement;
  const total = lines(mv.allowance);
  if (id === "movement.opening") return total.opening;
  if (id === "movement.closing") return total.closing;
  if (id === "movement.change") return total.closing - total.opening;
  if (id === "movement.change_pct") {
    return (total.closing - total.opening) / total.opening;
  }
  if ((m = id.match(/^movement\.facilities\.(\w+)$/))) {
    return mv.facilities[m[1]];
  }
  if ((m = id.match(/^movement\.line\.(\w+)$/))) return total[m[1]];
  if ((m = id.match(/^movement\.product\.(.+)\.change$/))) {
    const p = lines(
      mv.by_product.find((p: Json) => p.product === m![1]).allowance,
    );
    return p.closing - p.opening;
  }
  throw new Error(`the test does not know fact ${id}`);
}

/** This test's own reading of the numbers in a text, with their units. */
function numbersIn(
  text: string,
): { token: string; value: number; decimals: number; scale: number }[] {
  const cleaned = text
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, " ")
    .replace(/\bstage \d\b/g, " ")
    .replace(/\b(IFRS|IAS) \d+( §[\d.]+[A-Z]?)?/g, " ")
    .replace(/§[\d.]+[A-Z]?/g, " ")
    .replace(/\bB8E\b/g, " ");
  return [...cleaned.matchAll(/\d[\d,]*(\.\d+)?( million|%)?/g)].map((m) => {
    const scale = m[2] === " million" ? 1e6 : m[2] === "%" ? 0.01 : 1;
    return {
      token: m[0],
      value: Number(m[0].replace(/[^\d.]/g, "")) * scale,
      decimals: m[1] ? m[1].length - 1 : 0,
      scale,
    };
  });
}

function checkNarrativeFigures(
  n: Narrative,
  files: { summary: Json; dataQuality: Json; movement: Json },
) {
  assert.equal(n.provider, "template");
  assert.ok(n.paragraphs && n.paragraphs.length >= 5);
  let quoted = 0;
  for (const p of n.paragraphs!) {
    const numbers = numbersIn(p.text);
    if (p.topic === "warnings") {
      // Only dates and the warnings' own text.
      for (const x of numbers) {
        assert.ok(
          n.facts.warnings.some((w) => w.includes(x.token)),
          `${x.token} in: ${p.text}`,
        );
      }
      continue;
    }
    for (const x of numbers) {
      // Each number is a form of a fact the paragraph quotes ...
      const fact = p.facts.map((id) => n.facts.facts[id]).find((f) =>
        f.formatted.some((form) =>
          form === x.token ||
          form === x.token.replace(" million", "") + " million"
        )
      );
      assert.ok(fact, `${x.token} is no quoted fact's form in: ${p.text}`);
      // ... whose value is the file's, written to its rounding.
      const want = expected(fact.id, files);
      assert.ok(
        Math.abs(fact.value - want) <= 1e-9 * Math.max(1, Math.abs(want)),
        `${fact.id}: ${fact.value} in the sheet, ${want} in the files`,
      );
      const half = 0.5 * 10 ** -x.decimals * x.scale;
      assert.ok(
        Math.abs(x.value - Math.abs(want)) <= half + 1e-9,
        `${x.token} does not write ${fact.id} = ${want}`,
      );
      quoted++;
    }
    // And every fact the paragraph lists is quoted in it.
    for (const id of p.facts) {
      assert.ok(
        numbersIn(p.text).some((x) =>
          Math.abs(x.value - Math.abs(expected(id, files))) <=
            0.5 * 10 ** -x.decimals * x.scale + 1e-9
        ),
        `fact ${id} listed but not in: ${p.text}`,
      );
    }
  }
  return quoted;
}

Deno.test("the run's template narrative of the sample book quotes only facts, each equal to summary.json and data_quality.json", async () => {
  const b = await book;
  const n = b.runNarrative;
  assert.equal(n.facts.movement, undefined);
  const quoted = checkNarrativeFigures(n, b);
  assert.ok(quoted >= 25, `${quoted} figures`);
  // The headline, as a reader of summary.json would write it.
  const ecl = (b.summary.totals.ecl / 1e6).toFixed(2);
  assert.match(
    n.text,
    new RegExp(
      `^At 2025-12-31 the expected credit loss on ${
        b.summary.totals.count.toLocaleString("en-US")
      } facilities is EUR ${ecl} million`,
    ),
  );
  assert.ok(
    n.text.includes(`covers ${(b.summary.totals.coverage * 100).toFixed(2)}%`),
  );
});

Deno.test("the movement's template narrative of the sample book quotes only facts, each equal to summary.json and movement.json", async () => {
  const b = await book;
  const n = b.movementNarrative;
  assert.equal(n.facts.movement?.from_date, "2025-09-30");
  const quoted = checkNarrativeFigures(n, b);
  assert.ok(quoted >= 35, `${quoted} figures`);
  const lines = Object.fromEntries(
    b.movement.allowance.lines.map((l: Json) => [l.key, l.total]),
  );
  const change = lines.closing - lines.opening;
  // The sample's allowance fell between the two quarter-ends.
  assert.ok(change < 0);
  assert.ok(
    n.text.includes(
      `Since 2025-09-30 the ECL fell by EUR ${
        Math.abs(change).toLocaleString("en-US", {
          minimumFractionDigits: 2,
          maximumFractionDigits: 2,
        })
      }`,
    ),
    n.text,
  );
  // The largest line of the reconciliation is named first.
  const largest = b.movement.allowance.lines
    .filter((l: Json) =>
      !["opening", "closing"].includes(l.key) &&
      !l.key.startsWith("transfer_")
    )
    .sort((x: Json, y: Json) => Math.abs(y.total) - Math.abs(x.total))[0];
  assert.ok(
    n.text.includes(`The largest changes were ${largest.label.toLowerCase()}`),
  );
});

Deno.test("report.html and movement.html show the narrative near the top, escaped, saying the template wrote it", async () => {
  const b = await book;
  for (
    const [file, n] of [
      [`${b.dirs[1]}/report.html`, b.runNarrative],
      [`${root}/movement/movement.html`, b.movementNarrative],
    ] as const
  ) {
    const html = await Deno.readTextFile(file);
    const at = html.indexOf('<section id="narrative">');
    assert.ok(at > 0, file);
    // After the headline, before every other section.
    assert.ok(html.indexOf('<section id="headline">') < at);
    const next = html.indexOf("<section", at + 1);
    const section = html.slice(at, next);
    assert.ok(
      section.includes("Written by the template (offline, deterministic)"),
    );
    const first = n.paragraphs![0].text;
    assert.ok(section.includes(`<p>${first.slice(0, 60)}`), file);
    assert.ok(html.includes('href="#narrative"'));
  }
  // The earlier run's folder has its own narrative, without a movement.
  const q3 = JSON.parse(
    await Deno.readTextFile(`${b.dirs[0]}/narrative.json`),
  ) as Narrative;
  assert.equal(q3.facts.reporting_date, "2025-09-30");
});

Deno.test({
  name: "narrative sample: clean up",
  fn: async () => {
    await book;
    await Deno.remove(root, { recursive: true });
  },
});
