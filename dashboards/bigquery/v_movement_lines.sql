-- The loss-allowance and gross-carrying-amount reconciliations written by
-- `deno task movement` (movement.parquet: one row per period, measure, line
-- and stage), loaded into the dataset `ifrs9` as table `movement_lines`
-- (append one file per period:
--   bq load --source_format=PARQUET ifrs9.movement_lines movement.parquet).
-- Lines keep the IFRS 7 §35H order through line_order; a Looker Studio
-- pivot of label by stage reproduces the disclosure table.
CREATE OR REPLACE VIEW `ifrs9.v_movement_lines` AS
SELECT
  from_date,
  to_date,
  measure,
  line_order,
  line,
  label,
  stage,
  amount
FROM `ifrs9.movement_lines`;
