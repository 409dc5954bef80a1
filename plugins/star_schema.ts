/**
 * BI star-schema plugin: after a run is published (`onRunComplete`),
 * exports it as a Power BI star schema (`exportStarSchema` of the library,
 * dashboards/README.md): `fact_facility`, `dim_stage`, `dim_product`,
 * `dim_region` and `dim_date`, each as Parquet and CSV, in the folder
 * `out`. The folder is written whole or not at all and holds the latest
 * run's export (an earlier export there is replaced; a folder holding other
 * files is refused by the library). For several dates in one model, run
 * `dashboards/build.ts --star DIR` over the run folders instead.
 *
 * ```yaml
 * plugins:
 *   - module: ../plugins/star_schema.ts
 *     options: { out: /mnt/bi/ifrs9_star }
 * ```
 *
 * @module
 */
import { z } from "zod";
import {
  type CompletedRunContext,
  exportStarSchema,
  type Plugin,
} from "../lib/mod.ts";
import { parseOptions } from "./_common.ts";

/** The plugin's name in errors and the manifest. */
export const NAME = "star_schema";

/** The options the rules file gives the plugin. */
export const StarSchemaPluginOptions = z.object({
  /** The folder the star schema is written to (a local folder). */
  out: z.string().min(1, "must be the folder to write the star schema to")
    .refine(
      (out) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(out),
      "must be a local folder (object storage is not configured yet)",
    ),
}).strict();

/** Builds the star-schema plugin from its options. */
export default function starSchemaPlugin(
  options: Record<string, unknown>,
): Plugin {
  const opts = parseOptions(NAME, StarSchemaPluginOptions, options);
  return {
    name: NAME,
    async onRunComplete(context: CompletedRunContext) {
      await exportStarSchema([context.runDir], opts.out);
    },
  };
}
