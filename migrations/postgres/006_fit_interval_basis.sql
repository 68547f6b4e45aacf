-- PostgreSQL form of migrations/006_fit_interval_basis.sql: each fit's interval basis (NULL: rebuilt when first needed).
ALTER TABLE fits ADD COLUMN interval_basis json;
