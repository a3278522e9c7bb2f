-- What a restore must bring back, printed the same way from any database, so two runs
-- can be compared with diff (scripts/ci-backup-restore.sh, docs/operations.md):
-- every escalation, every step with its deadlines, the row count of every table, and
-- where each id sequence stands (a restore that lost them would reuse ids).
SET TimeZone = 'UTC';

SELECT 'escalation', e.id, e.state, e.nature, p.slug, e.current_stage_id, e.raised_by_id,
       e.raised_at, e.formal_started_at, e.formal_cap_due_on, e.closed_at
  FROM escalations_escalation e
  JOIN policies_policy p ON p.id = e.policy_id
 ORDER BY e.id;

SELECT 'step', s.escalation_id, s.sequence, s.stage_order, s.stage_name, s.mode,
       s.responder_id, s.received_on, s.response_days, s.day_type, s.due_on, s.cap_due_on,
       s.responded_at, s.verdict, s.closed_at
  FROM escalations_step s
 ORDER BY s.escalation_id, s.sequence;

SELECT 'rows', table_name,
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name),
                           false, true, '')))[1]::text
  FROM information_schema.tables
 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
 ORDER BY table_name;

SELECT 'sequence', sequencename, last_value
  FROM pg_sequences
 WHERE schemaname = 'public'
 ORDER BY sequencename;
