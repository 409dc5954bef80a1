/**
 * The scenario file (docs/scenarios.md §1): the sample loads, and each
 * broken rule is refused on one line naming its key path.
 */
import assert from "node:assert/strict";
import {
  loadScenarioFile,
  parseScenarioFile,
  REQUIRED_VARIABLES,
  ScenarioFileError,
} from "../../lib/mod.ts";
import { stringify } from "yaml";
import { flatPaths, scenarioDoc } from "./_fixtures.ts";

Deno.test("loadScenarioFile() reads the sample: ES and the five LATAM regions, 2005-2025 observed, 2026-2030 forecast", async () => {
  const file = await loadScenarioFile("config/scenarios_2025-12-31.yaml");
  assert.deepEqual(Object.keys(file.regions), [
    "ES",
    "MX",
    "BR",
    "CO",
    "CL",
    "PE",
  ]);
  for (const v of REQUIRED_VARIABLES) assert.ok(file.variables.includes(v));
  assert.equal(file.history_years[0], 2005);
  assert.equal(file.history_years.at(-1), 2025);
  assert.deepEqual(file.horizon, [2026, 2027, 2028, 2029, 2030]);
  assert.deepEqual(file.scenarios.map((s) => [s.name, s.weight]), [
    ["base", 0.5],
    ["upside", 0.2],
    ["downside", 0.3],
  ]);
  // Every series names a known source; an illustrative one says why.
  for (const s of [file.history, ...file.scenarios.map((x) => x.paths)]) {
    for (const vars of Object.values(s)) {
      for (const series of Object.values(vars)) {
        assert.ok(series.source in file.sources);
        assert.equal(series.illustrative, series.why !== undefined);
      }
    }
  }
  // The Banco de España's December 2025 projections as read (GDP 2.2, 1.9;
  // unemployment 10.0, 9.6 for 2026-2027).
  const es = file.scenarios[0].paths.ES;
  assert.deepEqual(es.gdp_growth.values.slice(0, 2), [2.2, 1.9]);
  assert.deepEqual(es.unemployment_rate.values.slice(0, 2), [10, 9.6]);
  assert.equal(es.gdp_growth.source, "bde_2025_12");
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
});

/** A valid two-scenario document to break. */
function doc() {
  const years = [2026, 2027];
  const values = {
    gdp_growth: 2,
    unemployment_rate: 10,
    house_price_growth: 3,
    policy_rate: 2,
  };
  return scenarioDoc(
    flatPaths(["ES", "MX"], [2023, 2024, 2025], values),
    [
      {
        name: "base",
        weight: 0.7,
        paths: flatPaths(["ES", "MX"], years, values),
      },
      {
        name: "down",
        weight: 0.3,
        paths: flatPaths(["ES", "MX"], years, values),
      },
    ],
    "2025-12-31",
  ) as ReturnType<typeof scenarioDoc> & Record<string, unknown>;
}

/** The problems of a document, as the error's lines. */
function problems(d: unknown): string[] {
  try {
    parseScenarioFile(stringify(d), "s.yaml");
  } catch (e) {
    assert.ok(e instanceof ScenarioFileError);
    return e.message.split("\n").slice(1).map((l) => l.trim());
  }
  return [];
}

Deno.test("parseScenarioFile() accepts a valid document", () => {
  assert.deepEqual(problems(doc()), []);
});

Deno.test("parseScenarioFile() lists every broken rule, one line each with its key path", () => {
  const d = doc();
  d.scenarios[1].weight = 0.4; // weights 1.1
  // A gap in a series' years.
  const es = d.scenarios[0].paths.ES as Record<
    string,
    { values: Record<string, number>; source: string }
  >;
  delete es.gdp_growth.values["2027"];
  es.gdp_growth.values["2028"] = 1;
  // A missing variable and a share written as a percentage.
  delete (d.scenarios[1].paths.MX as Record<string, unknown>).policy_rate;
  (d.scenarios[1].paths.ES as typeof es).unemployment_rate.values["2026"] = 95;
  // An unknown source, and illustrative without why.
  es.house_price_growth.source = "imf";
  (es.policy_rate as Record<string, unknown>).illustrative = true;
  const lines = problems(d);
  assert.deepEqual(
    lines,
    [
      "- key scenarios[0].paths.ES.gdp_growth.values: years must be contiguous: 2026 is followed by 2028",
      '- key scenarios[0].paths.ES.house_price_growth.source: names no entry of sources (known: test), got "imf"',
      "- key scenarios[0].paths.ES.policy_rate.why: is required when illustrative is true: say why",
      "- key scenarios: weights must sum to 1 (IFRS 9 §5.5.17(a), methodology §8), got 1.1",
      "- key scenarios[1].paths.ES.unemployment_rate.values.2026: must be within [0, 40] percent for unemployment_rate (VARIABLE_BOUNDS; a share written as a percentage?), got 95",
      "- key scenarios[1].paths.MX.policy_rate: is missing",
    ].sort((a, b) => lines.indexOf(a) - lines.indexOf(b)),
  );
});

Deno.test("parseScenarioFile() refuses a forecast that does not follow the history, and an unknown region", () => {
  const d = doc();
  for (const s of d.scenarios) {
    for (const vars of Object.values(s.paths)) {
      for (
        const series of Object.values(
          vars as Record<string, { values: Record<string, number> }>,
        )
      ) {
        series.values = { "2027": 1, "2028": 1 };
      }
    }
  }
  (d.history as Record<string, unknown>).BR =
    (d.history as Record<string, unknown>).ES;
  const lines = problems(d);
  assert.ok(
    lines.includes(
      "- key history.BR: is not a region of the file (regions: ES, MX)",
    ),
    lines.join("\n"),
  );
  assert.ok(
    lines.includes(
      "- key scenarios[0].paths: the forecast must start the year after the last observed one (2026), got 2027",
    ),
    lines.join("\n"),
  );
});

Deno.test("loadScenarioFile() names a missing file", async () => {
  await assert.rejects(
    () => loadScenarioFile("no/such/scenarios.yaml"),
    (e: Error) =>
      e instanceof ScenarioFileError &&
      /^Cannot load scenario file no\/such\/scenarios\.yaml: 1 problem\n {2}- key \(file\): /
        .test(e.message),
  );
});

Deno.test("parseScenarioFile() refuses a history that does not end in the reporting date's year", () => {
  const d = doc();
  d.reporting_date = "2026-12-31";
  assert.deepEqual(problems(d), [
    "- key history: must end in the reporting date's year 2026 (an estimate for that year is fine: the forecast starts the year after), got 2025",
  ]);
});

Deno.test("parseScenarioFile() names a YAML syntax error, a document that is not a mapping and a value that is not a number", () => {
  assert.throws(
    () => parseScenarioFile("regions: [ES", "s.yaml"),
    /^ScenarioFileError: Cannot load scenario file s\.yaml: 1 problem\n {2}- key \(syntax\): /,
  );
  assert.throws(
    () => parseScenarioFile("- 1\n- 2\n", "s.yaml"),
    /key \(root\): must be a mapping with scenario_file_version/,
  );
  const d = doc();
  (d.history.ES as Record<string, { values: Record<string, unknown> }>)
    .gdp_growth.values["2024"] = ".nan";
  assert.ok(
    problems(d).some((l) =>
      l.startsWith("- key history.ES.gdp_growth.values.2024: ")
    ),
    problems(d).join("\n"),
  );
});

Deno.test("parseScenarioFile() refuses a date not of the calendar, a reporting date not at a year end, bad year keys and region codes in one bounded line each", () => {
  const history = flatPaths(["ES"], [2023, 2024, 2025], {
    gdp_growth: 2,
    unemployment_rate: 10,
    house_price_growth: 3,
    policy_rate: 2,
  });
  const paths = flatPaths(["ES"], [2026], {
    gdp_growth: 2,
    unemployment_rate: 10,
    house_price_growth: 3,
    policy_rate: 2,
  });
  const doc = scenarioDoc(
    history,
    [{ name: "base", weight: 1, paths }],
    "2025-12-31",
  );
  const refused = (d: unknown, expected: RegExp) =>
    assert.throws(
      () => parseScenarioFile(stringify(d), "s.yaml"),
      (e: Error) => {
        assert.ok(e instanceof ScenarioFileError);
        assert.equal(e.issues.length, 1, e.message);
        assert.match(e.message, expected);
        assert.ok(e.message.length < 400, e.message);
        return true;
      },
    );
  refused(
    { ...doc, reporting_date: "2025-02-30" },
    /key reporting_date: is not a calendar date, got "2025-02-30"/,
  );
  refused(
    { ...doc, reporting_date: "2025-06-30" },
    /key reporting_date: must be a year end \(YYYY-12-31\)/,
  );
  const frac = structuredClone(doc);
  frac.scenarios[0].paths.ES.gdp_growth.values = { "2026.5": 2 } as never;
  refused(
    frac,
    /key scenarios\[0\]\.paths\.ES\.gdp_growth\.values: years must be whole four-digit years, got "2026\.5"/,
  );
  const regions = structuredClone(doc) as Record<string, unknown>;
  regions.regions = Object.fromEntries(
    Array.from(
      { length: 500 },
      (_, i) => [`R${i}`, { name: "x", segment_suffix: "x" }],
    ),
  );
  refused(
    regions,
    /key regions: region codes must be ISO 3166-1 alpha-2 codes in capitals \(ES, MX\), got "R0", "R1", "R2", "R3", "R4" and 495 more/,
  );
  const many = {
    ...doc,
    scenarios: Array.from({ length: 21 }, (_, i) => ({
      ...doc.scenarios[0],
      name: `s${i}`,
      weight: 1 / 21,
    })),
  };
  refused(
    many,
    /key scenarios: must hold at most 20 scenarios \(MAX_FILE_SCENARIOS\), got 21$/,
  );
});
