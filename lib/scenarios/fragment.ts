/**
 * The rules fragment the satellite model writes (docs/scenarios.md §5):
 * the keys of a rules file (methodology §10) that carry the scenarios, so
 * that a run's scenario adjustments come from a fitted model rather than
 * being typed in, and say which one:
 *
 * ```yaml
 * scenario_source: { fit: out/fit.json, sha256: 9f2c... }
 * scenario_adjustment: z_shift
 * scenarios:
 *   - { name: base, weight: 0.6, z: [0.21, 0.18, ...], collateral_haircut: 0.2 }
 * segments:
 *   mortgage_es: { rho: 0.1234 }
 * ```
 *
 * Merged into a rules file ({@link mergeRulesFragment}: the fragment's
 * top-level keys replace the file's, its `segments` entries are merged key
 * by key) the result is read by the rules loader as it is (`lib/rules.ts`);
 * `scenario_source` reaches the run's manifest with the other rules
 * parameters.
 *
 * @module
 */
import { Document, isScalar, parse as parseYaml, stringify, visit } from "yaml";
import { isMapping } from "../_config_file.ts";
import type { ScenarioAdjustments } from "./project.ts";

/** Which fitted model produced a fragment: the fit file and its SHA-256. */
export interface ScenarioSource {
  /** Path of the fit (fit.json). */
  fit: string;
  /** SHA-256 (hex) of its bytes. */
  sha256: string;
}

/** The rules keys of a fragment, as data. */
export interface RulesFragment {
  /** Which fit produced it. */
  scenario_source: ScenarioSource;
  /** `z_shift` (methodology §4). */
  scenario_adjustment: "z_shift";
  /** The scenarios, with `z` and `collateral_haircut`. */
  scenarios: {
    name: string;
    weight: number;
    z: number[];
    collateral_haircut: number;
  }[];
  /** Segments' `rho`, when the fit wrote them. */
  segments?: Record<string, { rho: number }>;
}

/** The fragment of `adjustments` produced by the fit `source`. */
export function rulesFragment(
  adjustments: ScenarioAdjustments,
  source: ScenarioSource,
): RulesFragment {
  return {
    scenario_source: { fit: source.fit, sha256: source.sha256 },
    scenario_adjustment: "z_shift",
    scenarios: adjustments.scenarios.map((s) => ({
      name: s.name,
      weight: s.weight,
      z: [...s.z],
      collateral_haircut: s.collateral_haircut,
    })),
    ...(Object.keys(adjustments.segments).length > 0
      ? { segments: adjustments.segments }
      : {}),
  };
}

/**
 * The fragment as YAML, with a header saying where it comes from and how
 * to use it.
 */
export function rulesFragmentYaml(
  fragment: RulesFragment,
  header: readonly string[] = [],
): string {
  const lines = [
    "# Rules fragment written by the satellite model (docs/scenarios.md §5).",
    "# Merge into a rules file: these top-level keys replace the file's;",
    "# the segments' rho are merged into the file's segments key by key.",
    "# Do not edit the figures: refit (deno task scenarios) instead.",
    ...header.map((h) => `# ${h}`),
  ];
  // Vectors and a segment's one key on one line each, as a risk team
  // writes them by hand.
  const doc = new Document(fragment);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every(isScalar)) node.flow = true;
    },
    Map(_, node) {
      if (node.items.length === 1 && isScalar(node.items[0].value)) {
        node.flow = true;
      }
    },
  });
  return `${lines.join("\n")}\n${doc.toString({ lineWidth: 0 })}`;
}

/**
 * A rules document with a fragment merged in: the fragment's top-level
 * keys replace the document's, except `segments`, whose entries are merged
 * key by key into the document's (an entry the document lacks is added).
 * Neither argument is changed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeRulesFragment } from "./fragment.ts";
 * const merged = mergeRulesFragment(
 *   { segments: { sme_es: { lgd_floor: 0.1 } }, scenario_adjustment: "multiplier" },
 *   { segments: { sme_es: { rho: 0.2 } }, scenario_adjustment: "z_shift" },
 * );
 * assert.deepEqual(merged, {
 *   segments: { sme_es: { lgd_floor: 0.1, rho: 0.2 } },
 *   scenario_adjustment: "z_shift",
 * });
 * ```
 */
export function mergeRulesFragment(
  rules: Record<string, unknown>,
  fragment: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...rules };
  for (const [key, value] of Object.entries(fragment)) {
    if (key === "segments" && isMapping(value) && isMapping(rules.segments)) {
      const segments: Record<string, unknown> = { ...rules.segments };
      for (const [name, entry] of Object.entries(value)) {
        const was = segments[name];
        segments[name] = isMapping(was) && isMapping(entry)
          ? { ...was, ...entry }
          : entry;
      }
      out.segments = segments;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * The YAML of a rules file with a fragment (YAML text) merged in
 * ({@link mergeRulesFragment}); the rules file's comments are not kept.
 */
export function mergeRulesFragmentText(
  rulesText: string,
  fragmentText: string,
  header: readonly string[] = [],
): string {
  const rules = parseYaml(rulesText);
  const fragment = parseYaml(fragmentText);
  if (!isMapping(rules) || !isMapping(fragment)) {
    throw new TypeError("a rules file and a fragment are YAML mappings");
  }
  return `${header.map((h) => `# ${h}\n`).join("")}${
    stringify(mergeRulesFragment(rules, fragment), {
      aliasDuplicateObjects: false,
      lineWidth: 0,
    })
  }`;
}
