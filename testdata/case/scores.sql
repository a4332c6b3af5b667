-- Scores and rule hits for testdata/case/txns.csv, as fd-score and fd-rules would write them.
-- scored_at 2026-03-04T00:00:00Z = 1772582400000; two runs (run 2 the older model)
INSERT INTO score_runs (id, model_version, ruleset, rows, started_at, actor) VALUES
 (1, 'm1', 'abc', 8, 1772582400000, 'fixture'),
 (2, 'm0', NULL, 1, 1772496000000, 'fixture');
INSERT INTO scores (run_id, txn_id, model_version, ae_error, ae_score, if_score, rule_points, rules, risk, level, decision, confidence, reasons, scored_at) VALUES
 (1, 'X01', 'm1', 0.1, 0.40, 0.45, 0, '[]', 45, 'MEDIUM', 'REVIEW', 0.6, '["2 transactions in 2 minutes at merchant M1"]', 1772582400000),
 (1, 'X02', 'm1', 0.1, 0.50, 0.55, 0, '[]', 55, 'MEDIUM', 'REVIEW', 0.6, '["card testing pattern: 1.50 after 1.00"]', 1772582400000),
 (1, 'X03', 'm1', 0.9, 0.95, 0.90, 30, '["velocity_5m"]', 92, 'HIGH', 'BLOCK', 0.9, '["amount 38.0× this sender''s 30-day mean","3 transactions in 5 minutes"]', 1772582400000),
 (1, 'X04', 'm1', 0.8, 0.85, 0.80, 0, '[]', 85, 'HIGH', 'BLOCK', 0.8, '["first transfer to recipient A2"]', 1772582400000),
 (1, 'X05', 'm1', 0.2, 0.30, 0.30, 0, '[]', 30, 'LOW', 'APPROVE', 0.7, '[]', 1772582400000),
 (1, 'X07', 'm1', 0.7, 0.88, 0.85, 0, '[]', 88, 'HIGH', 'BLOCK', 0.8, '["IP 198.51.100.10 shared with 2 accounts"]', 1772582400000),
 (1, 'X09', 'm1', 0.1, 0.10, 0.10, 0, '[]', 10, 'LOW', 'APPROVE', 0.9, '[]', 1772582400000),
 (1, 'X10', 'm1', 0.9, 0.95, 0.97, 0, '[]', 95, 'HIGH', 'BLOCK', 0.9, '["amount 120000 JPY is 60× this sender''s largest"]', 1772582400000);
-- an older score of X05 from another model, which the latest one supersedes
INSERT INTO scores (run_id, txn_id, model_version, risk, level, decision, reasons, scored_at) VALUES
 (2, 'X05', 'm0', 99, 'HIGH', 'BLOCK', '["old model"]', 1772496000000);
INSERT INTO rule_runs (id, ruleset, rules_file, transactions, hits, started_at, actor) VALUES
 (1, 'abc', 'fixture.rules', 1, 1, 1772582400000, 'fixture');
INSERT INTO rule_hits (run_id, txn_id, rule_id, ruleset, points, action, reason, created_at) VALUES
 (1, 'X03', 'velocity_5m', 'abc', 30, 'review', '3 transactions in 5 minutes, limit 2', 1772582400000);
