/**
 * `deno task explain --run DIR [--movement DIR] [--out FILE] [--provider
 * template|vertex] [--model NAME] [--timeout SECONDS]`: the narrative of
 * an existing complete run folder and, with `--movement`, of the movement
 * into it (docs/narratives.md). Prints the narrative and, on stderr, who
 * wrote it (and, after a fallback to the template, why); with `--out
 * FILE` writes it instead: the whole `narrative.json` (text, provider,
 * fact sheet) when FILE ends in `.json`, else the text.
 *
 * The provider is `--provider`, else the run's rules' `explain.provider`
 * as its manifest records it, else the template. A model that fails or
 * quotes a figure that is not a fact never fails the task: the template's
 * text is printed, and the reason on stderr.
 *
 * FILE is checked before anything is read: a local file, not an existing
 * one unless `--replace` is given, never an input nor inside a run, a
 * movement or a model folder.
 *
 * Exit codes (lib/errors.ts): 0 done; 2 a usage error or a folder that
 * cannot be read (not a complete run, a failed run, a movement folder
 * given as `--run`, no movement.json, a movement that does not end at the
 * run's reporting date), an `--out` refused; 3 FILE cannot be written.
 *
 * @module
 */
import { number, oneOf, required, TaskCommand, UsageError } from "./_args.ts";
import {
  checkNewOutputFile,
  explainSettings,
  MAX_EXPLAIN_TIMEOUT_SECONDS,
  readFactSheet,
  readRunFolder,
  recordedExplain,
  writeNarrative,
} from "../lib/mod.ts";
import { writeOutputFile } from "../lib/run_folder/mod.ts";

export const command = new TaskCommand({
  command: "deno task explain",
  synopsis:
    "--run DIR [--movement DIR] [--out FILE [--replace]] [--provider template|vertex] [--model NAME] [--timeout SECONDS]",
  flags: `  --run DIR          a complete run folder
  --movement DIR     a movement folder whose later run is DIR (movement.json)
  --out FILE         write narrative.json (FILE ending .json) or the text,
                     instead of printing it (a local file; an existing
                     one only with --replace, never inside a run folder)
  --replace          write over an existing --out file
  --provider P       template (offline, default) or vertex (a Gemini model
                     on Vertex AI); default: the run's rules (explain.provider)
  --model NAME       the Gemini model (default gemini-2.5-flash); vertex only
  --timeout SECONDS  longest wait for the model (default 30, at most 600)`,
  options: {
    run: { type: "string" },
    movement: { type: "string" },
    out: { type: "string" },
    replace: { type: "boolean" },
    provider: { type: "string" },
    model: { type: "string" },
    timeout: { type: "string" },
  },
  required: ["run"],
});

/** Runs `deno task explain` with `args`; returns the exit code. */
export function main(args: string[]): Promise<number> {
  return command.run(args, async ({ values }) => {
    const { run } = required(values, "run");
    const provider = oneOf("provider", values.provider, [
      "template",
      "vertex",
    ]);
    const timeout = number("timeout", values.timeout);
    if (
      timeout !== undefined &&
      !(timeout > 0 && timeout <= MAX_EXPLAIN_TIMEOUT_SECONDS)
    ) {
      throw new UsageError(
        `--timeout must be above 0 and at most ${MAX_EXPLAIN_TIMEOUT_SECONDS} seconds, got ${values.timeout}`,
      );
    }
    if (values.model !== undefined && values.model.trim() === "") {
      throw new UsageError("--model must name a model, got an empty name");
    }
    // Where the output goes is checked before anything is read.
    if (values.out !== undefined) {
      await checkNewOutputFile(values.out, {
        inputs: [run, ...(values.movement ? [values.movement] : [])],
        replace: values.replace === true,
        noS3: "explain writes the narrative to a local file",
      });
    }
    const sheet = await readFactSheet(run, values.movement);
    const recorded = recordedExplain(
      (await readRunFolder(run, { trusted: true })).manifest,
    );
    const settings = explainSettings(recorded, {
      provider,
      model: values.model,
      timeout_seconds: timeout,
    });
    if (values.model !== undefined && settings.provider === "template") {
      console.error(
        `Warning: --model ${values.model} is ignored: the template (offline) writes the narrative; give --provider vertex to have a Gemini model write it`,
      );
    }
    const narrative = await writeNarrative(sheet, settings);
    const byline = narrative.provider === "vertex"
      ? `Written by Gemini model ${narrative.model} on Vertex AI; every figure checked against the facts`
      : "Written by the template (offline)";
    if (narrative.fallback_reason) {
      console.error(
        `Warning: ${narrative.fallback_reason}; the template's text is used instead`,
      );
    }
    if (values.out !== undefined) {
      const text = values.out.endsWith(".json")
        ? JSON.stringify(narrative, null, 2) + "\n"
        : narrative.text + "\n";
      console.log(await writeOutputFile(values.out, text));
    } else {
      console.log(narrative.text);
    }
    console.error(byline);
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
