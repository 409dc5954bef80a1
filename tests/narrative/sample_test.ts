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
import {
  checkNarrative,
  type Narrative,
  narrativeText,
  quotedFigures,
  templateNarrative,
} from "../../lib/narrative/mod.ts";
import { writeRunReport } from "../../lib/report/mod.ts";
import { UserError } from "../../lib/errors.ts";

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
  // Markup in a segment's name shows as text on the page: the narrative of
  // a sheet whose largest segment is named so, drawn into the report.
  const evil = `<b onmouseover="x()">seg&1</b>`;
  const sheet = structuredClone(b.runNarrative.facts);
  sheet.top_segments[0].key = evil;
  const paragraphs = templateNarrative(sheet);
  assert.ok(paragraphs.some((p) => p.text.includes(evil)));
  const copy = `${root}/escaped`;
  await copyDir(b.dirs[1], copy);
  await writeRunReport(copy, {
    narrative: {
      ...b.runNarrative,
      text: narrativeText(paragraphs),
      paragraphs,
      facts: sheet,
    },
  });
  const page = await Deno.readTextFile(`${copy}/report.html`);
  const narrative = page.slice(
    page.indexOf('<section id="narrative">'),
    page.indexOf("<section", page.indexOf('<section id="narrative">') + 1),
  );
  assert.ok(!narrative.includes("<b "), "markup left as markup");
  assert.ok(
    narrative.includes(
      "&lt;b onmouseover=&quot;x()&quot;&gt;seg&amp;1&lt;/b&gt;",
    ),
    narrative,
  );

  // The earlier run's folder has its own narrative, without a movement.
  const q3 = JSON.parse(
    await Deno.readTextFile(`${b.dirs[0]}/narrative.json`),
  ) as Narrative;
  assert.equal(q3.facts.reporting_date, "2025-09-30");
});

/** Copies a local folder (a run folder) to `to`. */
async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

/** An amount as the template writes it (`1.03 million`, `23,066.44`). */
function amountIn(written: string): { value: number; half: number } {
  const million = written.endsWith(" million");
  const digits = written.replace(" million", "").replaceAll(",", "");
  const decimals = digits.includes(".") ? digits.split(".")[1].length : 0;
  const scale = million ? 1e6 : 1;
  return {
    value: Number(digits) * scale,
    half: 0.5 * 10 ** -decimals * scale + 1e-9,
  };
}

const near = (written: string, want: number) => {
  const got = amountIn(written);
  return Math.abs(got.value - Math.abs(want)) <= got.half;
};

Deno.test("the template's sentences pair each label with its own figure, read from the text by this test", async () => {
  const b = await book;
  const s = b.summary;
  const text = b.runNarrative.text;
  const AMOUNT = "(\\d[\\d,]*\\.\\d{2}(?: million)?)";
  const PCT = "(\\d+\\.\\d+)%";
  // The headline: ECL, loss allowance, provision, coverage, gross amount.
  const head = text.match(
    new RegExp(
      `facilities is EUR ${AMOUNT}: a loss allowance of ${AMOUNT} deducted from the assets and a provision of ${AMOUNT} for undrawn commitments \\(IFRS 7 B8E\\)\\. It covers ${PCT} of a gross carrying amount of EUR ${AMOUNT}`,
    ),
  );
  assert.ok(head, text);
  assert.ok(near(head[1], s.totals.ecl), `ECL ${head[1]}`);
  assert.ok(near(head[2], s.totals.loss_allowance), `allowance ${head[2]}`);
  assert.ok(near(head[3], s.totals.provision), `provision ${head[3]}`);
  assert.ok(
    Math.abs(Number(head[4]) / 100 - s.totals.coverage) <= 0.00005 + 1e-12,
  );
  assert.ok(near(head[5], s.totals.gross_carrying_amount));
  // Each stage: "stage k holds A% of the gross carrying amount and B% of
  // the ECL (X, coverage C%, N facilities)", against summary.json.
  const stageRe = new RegExp(
    `stage (\\d) holds ${PCT} of the gross carrying amount and ${PCT} of the ECL \\(${AMOUNT}, coverage ${PCT}, ([\\d,]+) facilities\\)`,
    "g",
  );
  const seen: string[] = [];
  for (const m of text.matchAll(stageRe)) {
    const g = s.by_stage.find((g: Json) => String(g.key) === m[1]);
    assert.ok(g, `stage ${m[1]}`);
    // Written to its last decimal: two, or three significant digits below 1%.
    const pct = (x: string, want: number) =>
      Math.abs(Number(x) / 100 - want) <=
        0.5 * 10 ** -(x.split(".")[1].length + 2) + 1e-12;
    assert.ok(
      pct(m[2], g.gross_carrying_amount / s.totals.gross_carrying_amount),
      `stage ${m[1]} share of the gross carrying amount ${m[2]}`,
    );
    assert.ok(pct(m[3], g.ecl / s.totals.ecl), `stage ${m[1]} ECL share`);
    assert.ok(near(m[4], g.ecl), `stage ${m[1]} ECL ${m[4]} vs ${g.ecl}`);
    assert.ok(pct(m[5], g.coverage), `stage ${m[1]} coverage`);
    assert.equal(Number(m[6].replaceAll(",", "")), g.count);
    seen.push(m[1]);
  }
  assert.deepEqual(
    seen,
    s.by_stage.map((g: Json) => String(g.key)).sort(),
  );
});

Deno.test("the movement's direction words agree with the signs in movement.json", async () => {
  const b = await book;
  const text = b.movementNarrative.text;
  const lines = b.movement.allowance.lines as Json[];
  const total = Object.fromEntries(lines.map((l) => [l.key, l.total]));
  const change = total.closing - total.opening;
  const head = text.match(
    /the ECL (rose|fell) by EUR (\d[\d,]*\.\d{2}(?: million)?), from (\S+(?: million)?) to (\S+(?: million)?) \((up|down) /,
  );
  assert.ok(head, text);
  assert.equal(head[1], change > 0 ? "rose" : "fell");
  assert.equal(head[5], change > 0 ? "up" : "down");
  assert.ok(near(head[2], change));
  assert.ok(near(head[3], total.opening));
  assert.ok(near(head[4], total.closing));
  // Each reconciliation line the text names: its word and its size.
  let named = 0;
  for (const l of lines) {
    const at = text.indexOf(`${l.label.toLowerCase()} (`);
    if (at < 0 || ["opening", "closing"].includes(l.key)) continue;
    const m = text.slice(at + l.label.length + 2).match(
      /^(adding|releasing) (\d[\d,]*\.\d{2}(?: million)?)\)/,
    );
    assert.ok(m, `${l.label} in: ${text}`);
    assert.equal(m[1], l.total > 0 ? "adding" : "releasing", l.key);
    assert.ok(near(m[2], l.total), `${l.key}: ${m[2]} vs ${l.total}`);
    named++;
  }
  assert.ok(named >= 1);
  // Each product named: up or down as its own closing - opening.
  for (const p of b.movement.by_product as Json[]) {
    const m = text.match(
      new RegExp(
        `\\b${p.product} \\((up|down) (\\d[\\d,]*\\.\\d{2}(?: million)?)\\)`,
      ),
    );
    if (!m) continue;
    const t = Object.fromEntries(
      p.allowance.lines.map((l: Json) => [l.key, l.total]),
    );
    assert.equal(m[1], t.closing - t.opening > 0 ? "up" : "down", p.product);
    assert.ok(near(m[2], t.closing - t.opening), p.product);
  }
});

Deno.test("writeRunReport() names narrative.json when it is not valid JSON", async () => {
  const b = await book;
  const copy = `${root}/bad_narrative`;
  await copyDir(b.dirs[1], copy);
  await Deno.writeTextFile(`${copy}/narrative.json`, "{ not json");
  await assert.rejects(
    () => writeRunReport(copy),
    (e: Error) =>
      e instanceof UserError && e.message.includes(`${copy}/narrative.json`) &&
      e.message.includes("not valid JSON"),
  );
});

/**
 * The template's text as a model following the instruction would write
 * it: a citation after each figure, the paragraph's facts in order.
 */
function cited(n: Narrative): string {
  return n.paragraphs!.map((p) => {
    if (p.topic === "warnings") return p.text;
    const figures = quotedFigures(p.text);
    assert.equal(figures.length, p.facts.length, p.text);
    let out = "", at = 0;
    figures.forEach((f, i) => {
      const end = f.index + f.text.length;
      out += `${p.text.slice(at, end)} [fact:${p.facts[i]}]`;
      at = end;
    });
    return out + p.text.slice(at);
  }).join("\n\n");
}

Deno.test("the check keeps the sample's narratives written with citations, and refuses them with a direction flipped", async () => {
  const b = await book;
  for (const n of [b.runNarrative, b.movementNarrative]) {
    const text = cited(n);
    const check = checkNarrative(text, n.facts);
    assert.deepEqual(check.unknown, []);
    assert.equal(check.text, n.text);
    assert.ok(check.figures.length >= 25);
  }
  // The sample's ECL fell: "rose" in its place is refused.
  const text = cited(b.movementNarrative).replace(
    "the ECL fell by",
    "the ECL rose by",
  );
  assert.deepEqual(
    checkNarrative(text, b.movementNarrative.facts).unknown.map((u) =>
      u.replace(/^[\d,.]+( million)? /, "")
    ),
    ["(movement.change fell, the text says otherwise)"],
  );
});

Deno.test({
  name: "narrative sample: clean up",
  fn: async () => {
    await book;
    await Deno.remove(root, { recursive: true });
  },
});
