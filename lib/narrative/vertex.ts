/**
 * A narrative written by a Gemini model on Vertex AI, through
 * `@google/genai` in Vertex AI mode (`new GoogleGenAI({ vertexai: true,
 * project, location })`; the generative module of the older
 * `@google-cloud/vertexai` SDK was removed in June 2026). The model is
 * given the fact sheet as its only source: a system instruction saying so
 * and how figures may be written, and the facts as JSON in the prompt.
 * Credentials are never in the prompt: they travel in the request's
 * headers, from Google's usual sources (Application Default Credentials:
 * `GOOGLE_APPLICATION_CREDENTIALS`, `gcloud auth application-default
 * login`, the metadata server) or, in Vertex AI express mode, an API key
 * (`GOOGLE_API_KEY`).
 *
 * The call is bounded ({@link VertexOptions.timeoutSeconds}: the request is
 * aborted, and so is waiting for credentials), is not retried, and any
 * failure (no credentials, network, an error status, a malformed or empty
 * answer, the timeout) is thrown as a {@link VertexNarrativeError} saying
 * why in one line; the caller (`mod.ts`) then uses the template.
 *
 * @module
 */
import { GoogleGenAI } from "@google/genai";
import { type FactSheet, redactIdentifiers } from "./facts.ts";

/** The model asked when the rules name none. */
export const DEFAULT_VERTEX_MODEL = "gemini-2.5-flash";

/** Where the model runs when neither the rules nor the environment say. */
export const DEFAULT_VERTEX_LOCATION = "europe-west1";

/** How to reach the model. */
export interface VertexOptions {
  /** The Gemini model, e.g. `gemini-2.5-flash`. */
  model: string;
  /**
   * Google Cloud project. @default `GOOGLE_CLOUD_PROJECT` (read by the SDK)
   */
  project?: string;
  /**
   * Vertex AI location. @default `GOOGLE_CLOUD_LOCATION`, else
   *   {@link DEFAULT_VERTEX_LOCATION}
   */
  location?: string;
  /** Seconds before the call is abandoned. */
  timeoutSeconds: number;
  /**
   * Another endpoint than Google's (a proxy, a test's fake server).
   * @default `GOOGLE_VERTEX_BASE_URL` (read by the SDK), else Google's
   */
  baseUrl?: string;
  /**
   * A bearer token used as it is, instead of Application Default
   * Credentials (`gcloud auth print-access-token`; a test's).
   */
  accessToken?: string;
  /**
   * An API key for Vertex AI express mode. @default `GOOGLE_API_KEY`
   *   (read by the SDK) when no project is set
   */
  apiKey?: string;
}

/** Why a Vertex AI narrative could not be had, in one line. */
export class VertexNarrativeError extends Error {
  /**
   * The error.
   *
   * @param message Why, naming the model.
   * @param options.cause The underlying error.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VertexNarrativeError";
  }
}

/** The system instruction: the facts are the only source. */
export const SYSTEM_INSTRUCTION =
  `You write the narrative of an IFRS 9 expected-credit-loss report for a bank's board pack.
The JSON fact sheet in the prompt is your only source: use no other knowledge of the bank, the economy or the period.
Rules:
- Quote a figure only if it is a fact of the sheet, written exactly as one of its "formatted" forms with at least 3 significant digits (for an amount you may put the currency code before it).
- Right after every figure, cite its fact by id in square brackets: "EUR 1.03 million [fact:totals.ecl]", "2.50% [fact:stage.2.coverage]", "120 [fact:stage.2.count] facilities". Use each figure only in the sense of its fact's label.
- A change (a fact with "change": true) is written as its size, never with a minus sign, after a word saying its direction: rose, increased, added or up when its "direction" is "up"; fell, decreased, released or down when it is "down".
- Write no other number: no sums, differences or ratios of your own, and no numbers in words (write "3 products [fact:...]" from a count fact, or leave the count out). Dates, years and stage numbers (stage 1, 2, 3) may appear without a citation.
- Cover, in this order: the headline allowance and coverage; the stage mix; the largest contributors by product and segment; when the sheet has a movement, the change since the earlier date and its largest causes; data-quality issues; overlays; warnings.
- Plain English prose in four to six short paragraphs separated by blank lines; no headings, lists, tables or markdown.`;

/**
 * The prompt: the facts as JSON, which the model is told to rely on alone.
 * What could identify a facility or a machine is not sent: no run ids, no
 * paths, and the warnings and reasons with loan ids and paths taken out
 * ({@link redactIdentifiers}); the facts carry figures, counts and codes.
 */
export function vertexPrompt(sheet: FactSheet): string {
  const facts = Object.values(sheet.facts).map((f) => ({
    id: f.id,
    label: f.label,
    formatted: f.formatted,
    kind: f.kind,
    ...(f.change
      ? {
        change: true,
        direction: f.value > 0 ? "up" : f.value < 0 ? "down" : "none",
      }
      : {}),
  }));
  const sent = {
    reporting_date: sheet.reporting_date,
    reporting_currency: sheet.reporting_currency,
    fx_as_of: sheet.fx_as_of,
    stages: sheet.stages,
    top_products: sheet.top_products,
    top_segments: sheet.top_segments,
    ...(sheet.movement
      ? {
        movement: {
          from_date: sheet.movement.from_date,
          top_lines: sheet.movement.top_lines,
          top_products: sheet.movement.top_products,
        },
      }
      : {}),
    failed_rules: sheet.failed_rules.map((r) => ({
      ...r,
      description: redactIdentifiers(r.description),
    })),
    overlays: sheet.overlays.map((o) => ({
      ...o,
      reason: redactIdentifiers(o.reason),
    })),
    warnings: sheet.warnings.map(redactIdentifiers),
    facts,
  };
  return `Write the narrative from this fact sheet (amounts in ${sheet.reporting_currency}).

FACT SHEET (JSON):
${JSON.stringify(sent, null, 1)}`;
}

/** A token given as it is, in the shape google-auth-library's clients have. */
function fixedTokenClient(token: string) {
  return {
    getRequestHeaders: () =>
      Promise.resolve(new Headers({ authorization: `Bearer ${token}` })),
  };
}

/** `promise`, or a rejection after `ms` that aborts `controller`. */
function bounded<T>(
  promise: Promise<T>,
  ms: number,
  controller: AbortController,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new VertexNarrativeError(
          `${what}: no answer within ${ms / 1000} s (explain.timeout_seconds)`,
        ),
      );
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Asks the model for the narrative of `sheet`; returns its text as given.
 *
 * @throws {VertexNarrativeError} When no text can be had, saying why.
 */
export async function vertexNarrative(
  sheet: FactSheet,
  opts: VertexOptions,
): Promise<string> {
  const what = `Vertex AI model ${opts.model}`;
  const env = (k: string) => {
    try {
      return Deno.env.get(k) || undefined;
    } catch {
      return undefined;
    }
  };
  const project = opts.project ?? env("GOOGLE_CLOUD_PROJECT");
  const apiKey = opts.apiKey ?? (project ? undefined : env("GOOGLE_API_KEY"));
  if (!project && !apiKey) {
    throw new VertexNarrativeError(
      `${what}: no credentials: set explain.project in the rules (or GOOGLE_CLOUD_PROJECT) with Application Default Credentials, or GOOGLE_API_KEY for Vertex AI express mode`,
    );
  }
  const ms = Math.round(opts.timeoutSeconds * 1000);
  const controller = new AbortController();
  const baseUrl = opts.baseUrl ?? env("GOOGLE_VERTEX_BASE_URL");
  let client: GoogleGenAI;
  try {
    client = new GoogleGenAI({
      vertexai: true,
      ...(project
        ? {
          project,
          location: opts.location ?? env("GOOGLE_CLOUD_LOCATION") ??
            DEFAULT_VERTEX_LOCATION,
        }
        : { apiKey }),
      ...(opts.accessToken
        ? {
          googleAuthOptions: {
            // deno-lint-ignore no-explicit-any
            authClient: fixedTokenClient(opts.accessToken) as any,
          },
        }
        : {}),
      httpOptions: { ...(baseUrl ? { baseUrl } : {}), timeout: ms },
    });
  } catch (e) {
    throw new VertexNarrativeError(`${what}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  let response;
  try {
    response = await bounded(
      client.models.generateContent({
        model: opts.model,
        contents: vertexPrompt(sheet),
        config: {
          systemInstruction: SYSTEM_INSTRUCTION,
          temperature: 0.2,
          // Room for a model's thinking as well as a few paragraphs.
          maxOutputTokens: 8192,
          abortSignal: controller.signal,
        },
      }),
      ms,
      controller,
      what,
    );
  } catch (e) {
    if (e instanceof VertexNarrativeError) throw e;
    if (e instanceof SyntaxError) {
      throw new VertexNarrativeError(
        `${what}: malformed answer (${e.message.slice(0, 200)})`,
        { cause: e },
      );
    }
    const status = (e as { status?: unknown }).status;
    const message = String((e as Error)?.message ?? e).split("\n")[0]
      .slice(0, 300);
    throw new VertexNarrativeError(
      `${what}: ${
        typeof status === "number" ? `HTTP status ${status}: ` : ""
      }${message}`,
      { cause: e },
    );
  }
  let text: string | undefined;
  try {
    text = response.text;
  } catch (e) {
    throw new VertexNarrativeError(
      `${what}: malformed answer (${(e as Error).message})`,
      { cause: e },
    );
  }
  const finish = response.candidates?.[0]?.finishReason;
  if (finish !== undefined && finish !== "STOP") {
    // Cut short (MAX_TOKENS) or stopped for safety: not a whole narrative.
    throw new VertexNarrativeError(
      `${what}: malformed answer: it did not finish (${finish})`,
    );
  }
  if (typeof text !== "string" || text.trim() === "") {
    const reason = response.candidates?.[0]?.finishReason ??
      response.promptFeedback?.blockReason;
    throw new VertexNarrativeError(
      `${what}: malformed answer: no text${reason ? ` (${reason})` : ""}`,
    );
  }
  return text.trim();
}
