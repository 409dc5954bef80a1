-- Stage migration between consecutive reporting dates, counts and gross
-- carrying amount (docs/movement.md §2). A facility absent from the later
-- date is 'derecognised' (repaid, prepaid or matured); one with a write-off
-- at the later date is 'written_off'; one absent from the earlier date is
-- 'new'. Consecutive means adjacent rows of dim_date.
CREATE OR REPLACE VIEW `ifrs9.v_stage_migration` AS
WITH dates AS (
  SELECT date_key, date, LEAD(date_key) OVER (ORDER BY date_key) AS next_key
  FROM `ifrs9.dim_date`
),
pairs AS (
  SELECT d.date_key AS from_key, d.next_key AS to_key
  FROM dates AS d
  WHERE d.next_key IS NOT NULL
),
opening AS (
  SELECT p.from_key, p.to_key, f.loan_id, f.stage_key, f.gross_carrying_amount_rc
  FROM pairs AS p JOIN `ifrs9.fact_facility` AS f ON f.date_key = p.from_key
),
closing AS (
  SELECT p.from_key, p.to_key, f.loan_id, f.stage_key, f.gross_carrying_amount_rc,
         f.write_off_amount
  FROM pairs AS p JOIN `ifrs9.fact_facility` AS f ON f.date_key = p.to_key
)
SELECT
  COALESCE(o.from_key, c.from_key) AS from_date_key,
  COALESCE(o.to_key, c.to_key) AS to_date_key,
  IFNULL(CAST(o.stage_key AS STRING), 'new') AS from_state,
  CASE
    WHEN c.loan_id IS NULL THEN 'derecognised'
    WHEN o.loan_id IS NOT NULL AND c.write_off_amount > 0 THEN 'written_off'
    ELSE CAST(c.stage_key AS STRING)
  END AS to_state,
  COUNT(*) AS facilities,
  SUM(IFNULL(o.gross_carrying_amount_rc, 0)) AS gross_opening,
  SUM(IFNULL(c.gross_carrying_amount_rc, 0)) AS gross_closing
FROM opening AS o
FULL OUTER JOIN closing AS c
  ON o.loan_id = c.loan_id AND o.from_key = c.from_key
GROUP BY from_date_key, to_date_key, from_state, to_state;
