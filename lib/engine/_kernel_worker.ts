/**
 * A worker that runs the projection kernel (`_kernel.ts`) on one batch of
 * loans: `computeEcl` hands batches to a few of these so the monthly loop
 * uses every core while Polars is idle. The message in is
 * `{ cfg, cols, n }`; the message out is the batch's {@link KernelOutput},
 * its buffers transferred, or `{ error }` with the message of what failed.
 * With `shared` (an output on `SharedArrayBuffer`s) and `offset`, the
 * batch is written into `shared` from `offset` and the answer is
 * `{ done: n }`.
 *
 * @module
 */
import {
  allocateOutput,
  type KernelConfig,
  type KernelOutput,
  type LoanColumns,
  projectBatch,
} from "./_kernel.ts";

/** A batch to project. */
export interface KernelJob {
  cfg: KernelConfig;
  cols: LoanColumns;
  n: number;
  /** The run's output, on `SharedArrayBuffer`s, to write the batch into. */
  shared?: KernelOutput;
  /** The batch's first row in `shared`. */
  offset?: number;
}

/** What the worker answers. */
export type KernelReply =
  | { out: KernelOutput }
  | { done: number }
  | { error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<KernelJob>) => void) | null;
  postMessage: (message: KernelReply, transfer?: Transferable[]) => void;
};

scope.onmessage = (e) => {
  try {
    const { cfg, cols, n, shared, offset } = e.data;
    if (shared !== undefined) {
      projectBatch(cfg, cols, n, shared, offset ?? 0);
      scope.postMessage({ done: n });
      return;
    }
    const out = allocateOutput(n, cfg.scenarioNames.length);
    projectBatch(cfg, cols, n, out, 0);
    const buffers = [
      out.ead,
      out.pdLifetime,
      out.lgd,
      out.ecl12m,
      out.eclLifetime,
      out.eclModel,
      ...out.scenarioEcl,
    ].map((a) => a.buffer as ArrayBuffer);
    scope.postMessage({ out }, buffers);
  } catch (err) {
    scope.postMessage({ error: (err as Error)?.message ?? String(err) });
  }
};
