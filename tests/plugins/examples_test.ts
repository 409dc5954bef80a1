/** The sample CSVs under plugins/examples/ load through their plugins. */
import assert from "node:assert/strict";
import { projectPath } from "../../lib/mod.ts";
import managementOverlay, {
  readOverlays,
} from "../../plugins/management_overlay.ts";
import watchlist, { readWatchlist } from "../../plugins/watchlist.ts";

Deno.test("plugins/examples: the sample watchlist and overlays load", async () => {
  const watch = projectPath("plugins/examples/watchlist.csv");
  const overlays = projectPath("plugins/examples/management_overlays.csv");
  assert.equal((await watchlist({ file: watch })).name, "watchlist");
  assert.deepEqual(
    (await readWatchlist(watch)).map((e) => e.customerId ?? e.loanId),
    [
      "C000000000017",
      "L000000000042",
      "C000000000230",
    ],
  );
  assert.equal(
    (await managementOverlay({ file: overlays })).name,
    "management_overlay",
  );
  const read = await readOverlays(overlays);
  assert.deepEqual(read.map((o) => [o.overlay.name, o.approver]), [
    ["used_car_prices", "Chief Risk Officer"],
    ["sme_energy", "Credit Committee"],
  ]);
  assert.equal(read[0].overlay.multiplier, 1.15);
  assert.equal(read[1].overlay.add, 250000);
  assert.deepEqual(read[1].overlay.filter, { segment: ["sme_es"] });
});
