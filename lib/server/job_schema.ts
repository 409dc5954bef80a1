/**
 * The shape of a job record ({@link JobRecord} in `types.ts`) as a schema,
 * once: the registry checks `jobs.json` with it, and the app documents
 * `GET /runs/:id` with it in the OpenAPI document.
 *
 * @module
 */
import { z } from "zod";

/** Every field of a job record but the summary, each with its description. */
export const JOB_RECORD_FIELDS = {
  id: z.string().min(1).describe("The run id or movement id"),
  kind: z.enum(["run", "movement"]),
  status: z.enum(["queued", "running", "succeeded", "failed", "interrupted"]),
  request: z.record(z.string(), z.unknown()).describe(
    "The request as accepted, with resolved paths",
  ),
  submittedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  step: z.string().nullable().describe("The step running now, or the last one"),
  steps: z.array(z.object({ step: z.string(), ms: z.number() })),
  progress: z.object({ loansDone: z.number(), loansTotal: z.number() })
    .nullable(),
  counts: z.object({
    rowsRead: z.number(),
    rowsValid: z.number(),
    rowsRejected: z.number(),
    maxRejectRate: z.number().optional(),
  }).nullable(),
  dir: z.string().nullable(),
  error: z.object({ kind: z.string(), message: z.string() }).nullable(),
};
