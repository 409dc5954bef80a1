/**
 * A worker that runs the projection kernel (`_kernel.ts`) on one batch of
 * loans: `computeEcl` hands batches to a few of these so the monthly loop
 * uses every core while Polars is idle. The message in is
 * `{ cfg, cols, n }`; the message out is the batch's {@link KernelOutput},
 * its buffers transferred, or `{ error }` with the message of what failed.
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
}

/** What the worker answers. */
export type KernelReply = { out: KernelOutput } | { error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<KernelJob>) => void) | null;
  postMessage: (message: KernelReply, transfer?: Transferable[]) => void;
};

scope.onmessage = (e) => {
  try {
    const { cfg, cols, n } = e.data;
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
