-- Prediction intervals (issue 13): each fit keeps its interval basis (src/predict/interval-basis.ts:
-- params' covariance and the footprint of the fitted data, about 3.5 KB of JSON per fitted curve),
-- so a prediction interval needs no curve data. NULL for fits stored before: the basis is rebuilt
-- from their curves the first time an interval is asked for, then stored.
ALTER TABLE fits ADD COLUMN interval_basis TEXT;
