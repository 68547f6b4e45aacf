-- Live runs (issue 13, part 2): a curve's planned schedule for the whole run (a spec; NULL when the
-- curve has none or its `schedule` spec is the plan), and the recent forecasts of its final loss,
-- one row each time a forecast is computed after new points (at most 20 per curve and source are kept).
ALTER TABLE curves ADD COLUMN planned_schedule TEXT;

CREATE TABLE curve_forecasts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  curve_id    INTEGER NOT NULL REFERENCES curves(id) ON DELETE CASCADE,
  source      TEXT    NOT NULL,   -- what predicted it: 'fit:ID' or 'law:mpl' (+ ' with:1,2')
  created_at  TEXT    NOT NULL,
  point_count INTEGER NOT NULL,   -- the curve's points when it was computed
  last_step   INTEGER NOT NULL,
  final_step  INTEGER NOT NULL,
  final_loss  REAL,               -- NULL when not finite
  lower       REAL,
  upper       REAL
);
CREATE INDEX curve_forecasts_by_curve ON curve_forecasts (curve_id, source, id);
