"""PostgreSQL: a commit in one statement (`legato_commit`), a claim in one (`legato_claim`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

PostgresStore commits a group of Changesets with one call of `legato_commit` on an autocommit
connection: one statement, one round trip, one transaction. Before, a commit was a pipeline of
BEGIN, six to ten statements and COMMIT, and psycopg's per-statement work cost the server about
0.6 ms of CPU per commit, more than everything else a task transition costs. Nothing changes on
SQLite.

Arguments (built by `postgres_commit`); every row names its set `s` (0, 1, ... in the callers'
order), and arguments with nothing to write are NULL:

    meta        jsonb: {"n": number of sets, "retry": bool,
                        "checks": [[s, workflow_id, expected_rev or null], ...],
                        "keys": [[s, workflow_id, name, idempotency_key], ...]  inserts with
                                                              an idempotency key,
                        "locks": [task_id, ...]               queue rows to lock,
                        "dequeue": [[s, task_id], ...]        queue rows to delete,
                        "enqueue": [[s, task_id, queue_name, workflow_id, priority, visible_at]],
                        "removed": [[s, task_id], ...]        tasks to delete (logs, text too),
                        "logs": [[s, task_id, log, created_time], ...],
                        "updates": [number of updated tasks of set 0, of set 1, ...],
                        "notify": [[channel, payload], ...]}  sent with the commit
    workflows   json: rows of legato_workflows to insert (expected_rev null) or update
    new_tasks, updated_tasks
                json: rows of legato_tasks
    extras      json: {"snapshots": [[s, hash, doc]], "archived": [[s, workflow_id, run,
                       time, doc]], "events": [[s, message_id, queue_name, payload, time]]}

Documents travel as `json`, never `jsonb`, so that their text (key order included) is stored
as written; the small, order-free parts travel as `jsonb`, which is parsed once.

The answer has one word per set: `ok`, or why it was not applied: `rev WORKFLOW_ID` (the row's
revision is not the expected one, the row is gone, or an earlier set of the same call writes
the same workflow) or `exists WORKFLOW_ID` (an insert of an id taken). A set that fails its
checks changes nothing; the others are applied. An insert with an idempotency key answers
`duplicate WORKFLOW_ID` when another workflow of its name with that key is running or paused:
its caller found none before, so another node started one meanwhile (starts of one key take
turns on an advisory lock, so the later sees the earlier). An updated task that does not exist aborts the
whole call (SQLSTATE LG001): the caller then commits its sets one by one.

With "retry", a set whose every workflow row already holds exactly the document the set writes,
at the revision it would give, was applied by the call whose answer was lost: it answers `ok`
and is not applied again.

`legato_claim(queue_name, count, now, worker_id)` takes up to `count` visible entries of a queue
(SKIP LOCKED, in claim order), deletes them, marks their SCHEDULED tasks IN_PROGRESS (the
document as `Task` fields: status, poll_count + 1, start_time and first_start_time when unset,
update_time, worker_id, callback_after_seconds 0; SqliteStore makes the same change in Python),
bumps each workflow's revision, lowers its next_wake_at to the earliest response deadline, and
returns the tasks' documents with their workflows' new revisions, in claim order. Entries whose
task is no longer SCHEDULED are dropped. Claims with hand-out limits stay in Python
(postgres_writes), as the limits are counted first.

Locks are taken in the order every writer takes them: the queue rows of all sets in task id
order, then the workflow rows in id order, then task rows (see postgres_writes). Joins with the
argument rows are nested loops over primary keys (hash and merge joins are off in the function):
the planner cannot know that the arguments hold a few rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WORKFLOW_RECORD = """
    s integer, workflow_id text, expected_rev integer, name text, version integer,
    status text, correlation_id text, parent_workflow_id text, priority integer,
    create_time bigint, update_time bigint, end_time bigint, next_wake_at bigint, def_hash text,
    doc json, idempotency_key text, reason text, event text, failed_ref_names text,
    classifier text, text_due bigint
"""
_TASK_RECORD = """
    s integer, task_id text, workflow_id text, seq integer, ref_name text, task_def_name text,
    task_type text, status text, doc json, workflow_type text, correlation_id text,
    scheduled_time bigint, start_time bigint, end_time bigint, update_time bigint,
    reason text, text_due bigint
"""

_COMMIT_FUNCTION = f"""
CREATE FUNCTION legato_commit(
    meta jsonb, workflows json, new_tasks json, updated_tasks json, extras json
) RETURNS text[] LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    retrying boolean := coalesce((meta->>'retry')::boolean, false);
    outcome text[];
    good integer[];
    ids text[];
    n integer;
    expected integer;
BEGIN
    PERFORM 1 FROM legato_queue
    WHERE task_id = ANY(ARRAY(SELECT jsonb_array_elements_text(meta->'locks')))
    ORDER BY task_id FOR UPDATE;
    PERFORM 1 FROM legato_workflows
    WHERE workflow_id = ANY(ARRAY(SELECT c->>1 FROM jsonb_array_elements(meta->'checks') AS c))
    ORDER BY workflow_id FOR UPDATE;

    IF meta ? 'keys' THEN
        PERFORM pg_advisory_xact_lock(k.h) FROM (
            SELECT DISTINCT hashtextextended(
                'legato.idempotency:' || (e->>2) || ':' || (e->>3), 0) AS h
            FROM jsonb_array_elements(meta->'keys') AS e ORDER BY 1) AS k;
    END IF;

    WITH c AS (
        SELECT x.s, x.workflow_id, x.expected_rev, w.rev, w.workflow_id IS NOT NULL AS present,
               row_number() OVER (PARTITION BY x.workflow_id ORDER BY x.s) AS nth,
               coalesce(retrying AND w.rev = coalesce(x.expected_rev, 0) + 1
                   AND w.doc::text = (
                       SELECT d.doc::text FROM json_to_recordset(workflows)
                           AS d(s integer, workflow_id text, doc json)
                       WHERE d.s = x.s AND d.workflow_id = x.workflow_id), false) AS applied,
               CASE WHEN x.expected_rev IS NULL AND meta ? 'keys' THEN (
                   SELECT min(o.workflow_id)
                   FROM jsonb_array_elements(meta->'keys') AS e
                   JOIN legato_workflows AS o
                       ON o.name = e->>2 AND o.idempotency_key = e->>3
                       AND o.workflow_id <> x.workflow_id AND o.status IN ('RUNNING', 'PAUSED')
                   WHERE (e->>0)::integer = x.s AND e->>1 = x.workflow_id)
               END AS duplicate
        FROM (
            SELECT (e->>0)::integer AS s, e->>1 AS workflow_id, (e->>2)::integer AS expected_rev
            FROM jsonb_array_elements(meta->'checks') AS e
        ) AS x
        LEFT JOIN legato_workflows AS w ON w.workflow_id = x.workflow_id
    ), v AS (
        SELECT s, CASE
            WHEN bool_or(nth > 1) THEN 'rev ' || min(workflow_id) FILTER (WHERE nth > 1)
            WHEN bool_and(applied) THEN 'applied'
            WHEN min(duplicate) IS NOT NULL THEN 'duplicate ' || min(duplicate)
            WHEN bool_or(expected_rev IS NULL AND present)
                THEN 'exists ' || min(workflow_id) FILTER (WHERE expected_rev IS NULL AND present)
            WHEN bool_or(expected_rev IS NOT NULL AND rev IS DISTINCT FROM expected_rev)
                THEN 'rev ' || min(workflow_id) FILTER (
                    WHERE expected_rev IS NOT NULL AND rev IS DISTINCT FROM expected_rev)
            ELSE 'ok' END AS verdict
        FROM c GROUP BY s
    )
    SELECT array_agg(coalesce(v.verdict, 'ok') ORDER BY i),
           coalesce(array_agg(i) FILTER (WHERE coalesce(v.verdict, 'ok') = 'ok'), '{{}}')
    INTO outcome, good
    FROM generate_series(0, (meta->>'n')::integer - 1) AS i LEFT JOIN v ON v.s = i;
    outcome := array_replace(outcome, 'applied', 'ok');
    IF cardinality(good) = 0 THEN
        RETURN outcome;
    END IF;

    IF meta ? 'dequeue' THEN
        DELETE FROM legato_queue WHERE task_id = ANY(ARRAY(
            SELECT e->>1 FROM jsonb_array_elements(meta->'dequeue') AS e
            WHERE (e->>0)::integer = ANY(good)));
    END IF;
    IF extras IS NOT NULL THEN
        INSERT INTO legato_definition_snapshots (hash, doc)
        SELECT e->>1, e->2 FROM json_array_elements(extras->'snapshots') AS e
        WHERE (e->>0)::integer = ANY(good)
        ON CONFLICT (hash) DO NOTHING;
        INSERT INTO legato_workflow_history (workflow_id, run, archived_time, doc)
        SELECT e->>1, (e->>2)::integer, (e->>3)::bigint, e->4
        FROM json_array_elements(extras->'archived') AS e
        WHERE (e->>0)::integer = ANY(good);
    END IF;
    IF workflows IS NOT NULL THEN
        INSERT INTO legato_workflows (
            workflow_id, name, version, status, correlation_id, parent_workflow_id, priority,
            create_time, update_time, end_time, next_wake_at, def_hash, doc, idempotency_key,
            reason, event, failed_ref_names, classifier, text_due, rev)
        SELECT
            x.workflow_id, x.name, x.version, x.status, x.correlation_id, x.parent_workflow_id,
            x.priority, x.create_time, x.update_time, x.end_time, x.next_wake_at, x.def_hash,
            x.doc, x.idempotency_key, x.reason, x.event, x.failed_ref_names, x.classifier,
            x.text_due, 1
        FROM json_to_recordset(workflows) AS x({_WORKFLOW_RECORD})
        WHERE x.expected_rev IS NULL AND x.s = ANY(good);
        UPDATE legato_workflows AS w SET
            name = x.name, version = x.version, status = x.status,
            correlation_id = x.correlation_id, parent_workflow_id = x.parent_workflow_id,
            priority = x.priority, create_time = x.create_time, update_time = x.update_time,
            end_time = x.end_time, next_wake_at = x.next_wake_at,
            def_hash = COALESCE(NULLIF(x.def_hash, ''), w.def_hash), doc = x.doc,
            idempotency_key = x.idempotency_key, reason = x.reason, event = x.event,
            failed_ref_names = x.failed_ref_names, classifier = x.classifier,
            text_due = x.text_due, rev = w.rev + 1
        FROM json_to_recordset(workflows) AS x({_WORKFLOW_RECORD})
        WHERE x.expected_rev IS NOT NULL AND x.s = ANY(good) AND w.workflow_id = x.workflow_id;
    END IF;
    IF new_tasks IS NOT NULL THEN
        INSERT INTO legato_tasks (
            task_id, workflow_id, seq, ref_name, task_def_name, task_type, status, doc,
            workflow_type, correlation_id, scheduled_time, start_time, end_time, update_time,
            reason, text_due)
        SELECT
            x.task_id, x.workflow_id, x.seq, x.ref_name, x.task_def_name, x.task_type,
            x.status, x.doc, x.workflow_type, x.correlation_id, x.scheduled_time,
            x.start_time, x.end_time, x.update_time, x.reason, x.text_due
        FROM json_to_recordset(new_tasks) AS x({_TASK_RECORD})
        WHERE x.s = ANY(good);
    END IF;
    IF updated_tasks IS NOT NULL THEN
        UPDATE legato_tasks AS t SET
            workflow_id = x.workflow_id, seq = x.seq, ref_name = x.ref_name,
            task_def_name = x.task_def_name, task_type = x.task_type, status = x.status,
            doc = x.doc, workflow_type = x.workflow_type, correlation_id = x.correlation_id,
            scheduled_time = x.scheduled_time, start_time = x.start_time,
            end_time = x.end_time, update_time = x.update_time, reason = x.reason,
            text_due = x.text_due
        FROM json_to_recordset(updated_tasks) AS x({_TASK_RECORD})
        WHERE x.s = ANY(good) AND t.task_id = x.task_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        SELECT sum(e::integer) INTO expected
        FROM jsonb_array_elements_text(meta->'updates') WITH ORDINALITY AS u(e, i)
        WHERE (i - 1)::integer = ANY(good);
        IF n <> coalesce(expected, 0) THEN
            RAISE EXCEPTION 'an updated task does not exist (% of % found)', n, expected
                USING ERRCODE = 'LG001';
        END IF;
    END IF;
    IF meta ? 'removed' THEN
        ids := ARRAY(
            SELECT e->>1 FROM jsonb_array_elements(meta->'removed') AS e
            WHERE (e->>0)::integer = ANY(good));
        DELETE FROM legato_tasks_text WHERE task_id = ANY(ids);
        DELETE FROM legato_task_logs WHERE task_id = ANY(ids);
        DELETE FROM legato_tasks WHERE task_id = ANY(ids);
    END IF;
    IF meta ? 'enqueue' THEN
        INSERT INTO legato_queue (task_id, queue_name, workflow_id, priority, visible_at)
        SELECT e->>1, e->>2, e->>3, (e->>4)::integer, (e->>5)::bigint
        FROM jsonb_array_elements(meta->'enqueue') AS e
        WHERE (e->>0)::integer = ANY(good)
        ON CONFLICT (task_id) DO UPDATE SET
            queue_name = excluded.queue_name, workflow_id = excluded.workflow_id,
            priority = excluded.priority, visible_at = excluded.visible_at;
    END IF;
    IF meta ? 'logs' THEN
        INSERT INTO legato_task_logs (task_id, log, created_time)
        SELECT e->>1, e->>2, (e->>3)::bigint
        FROM jsonb_array_elements(meta->'logs') AS e
        WHERE (e->>0)::integer = ANY(good);
    END IF;
    IF extras IS NOT NULL THEN
        INSERT INTO legato_event_messages
            (message_id, queue_name, payload, created_time, visible_at, deliveries)
        SELECT e->>1, e->>2, e->3, (e->>4)::bigint, (e->>4)::bigint, 0
        FROM json_array_elements(extras->'events') AS e
        WHERE (e->>0)::integer = ANY(good)
        ON CONFLICT (message_id) DO NOTHING;
    END IF;
    IF meta ? 'notify' THEN
        PERFORM pg_notify(e->>0, e->>1) FROM jsonb_array_elements(meta->'notify') AS e;
    END IF;
    RETURN outcome;
END
$fn$
"""


# A claimed task's document: the claim's fields replaced, every other field's text kept.
_CLAIMED_DOC_FUNCTION = """
CREATE FUNCTION legato_claimed_doc(doc json, now bigint, worker text) RETURNS json
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT json_object_agg(f.key, f.value) FROM (
        SELECT e.key, e.value FROM json_each(doc) AS e
        WHERE e.key NOT IN ('status', 'poll_count', 'start_time', 'first_start_time',
                            'update_time', 'worker_id', 'callback_after_seconds')
        UNION ALL
        SELECT 'status', to_json('IN_PROGRESS'::text)
        UNION ALL
        SELECT 'poll_count', to_json(coalesce((doc->>'poll_count')::integer, 0) + 1)
        UNION ALL
        SELECT 'start_time', to_json(
            CASE WHEN coalesce((doc->>'start_time')::bigint, 0) = 0 THEN now
                 ELSE (doc->>'start_time')::bigint END)
        UNION ALL
        SELECT 'first_start_time', to_json(
            CASE WHEN coalesce((doc->>'first_start_time')::bigint, 0) = 0 THEN now
                 ELSE (doc->>'first_start_time')::bigint END)
        UNION ALL
        SELECT 'update_time', to_json(now)
        UNION ALL
        SELECT 'worker_id', to_json(worker) WHERE worker IS NOT NULL
        UNION ALL
        SELECT 'callback_after_seconds', to_json(0)
    ) AS f
$fn$
"""

_CLAIM_FUNCTION = """
CREATE FUNCTION legato_claim(queue text, wanted integer, now bigint, worker text)
RETURNS TABLE (doc json, rev integer) LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    ids text[] := '{}';
    batch text[];
    asked integer;
    n integer;
BEGIN
    -- Take entries until `wanted` live tasks or the queue has no more visible entries.
    LOOP
        asked := wanted - cardinality(ids);
        EXIT WHEN asked <= 0;
        WITH picked AS (
            SELECT q.task_id FROM legato_queue AS q
            WHERE q.queue_name = queue AND q.visible_at <= now
            ORDER BY q.visible_at, q.priority DESC
            LIMIT asked
            FOR UPDATE SKIP LOCKED
        ), taken AS (
            DELETE FROM legato_queue AS q USING picked AS p
            WHERE q.task_id = p.task_id
            RETURNING q.task_id, q.visible_at, q.priority
        )
        SELECT count(*),
               coalesce(array_agg(taken.task_id ORDER BY taken.visible_at, taken.priority DESC)
                   FILTER (WHERE t.status = 'SCHEDULED'), '{}')
        INTO n, batch
        FROM taken LEFT JOIN legato_tasks AS t ON t.task_id = taken.task_id;
        ids := ids || batch;
        EXIT WHEN n < asked;
    END LOOP;
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;

    RETURN QUERY
    WITH claimed AS (
        UPDATE legato_tasks AS t
        SET status = 'IN_PROGRESS', doc = legato_claimed_doc(t.doc, now, worker),
            start_time = CASE WHEN t.start_time = 0 THEN now ELSE t.start_time END,
            update_time = now
        WHERE t.task_id = ANY(ids)
        RETURNING t.task_id, t.workflow_id, t.doc,
            CASE WHEN coalesce((t.doc->>'response_timeout_seconds')::bigint, 0) > 0
                 THEN now + (t.doc->>'response_timeout_seconds')::bigint * 1000 END AS deadline
    ), bumped AS (
        UPDATE legato_workflows AS w
        SET rev = w.rev + 1, next_wake_at = LEAST(w.next_wake_at, d.deadline)
        FROM (
            SELECT x.workflow_id, c.deadline
            FROM legato_workflows AS x
            JOIN (SELECT claimed.workflow_id, min(claimed.deadline) AS deadline
                  FROM claimed GROUP BY claimed.workflow_id) AS c
                ON c.workflow_id = x.workflow_id
            ORDER BY x.workflow_id
            FOR UPDATE OF x
        ) AS d
        WHERE w.workflow_id = d.workflow_id
        RETURNING w.workflow_id, w.rev
    )
    SELECT c.doc, b.rev
    FROM claimed AS c JOIN bumped AS b ON b.workflow_id = c.workflow_id
    ORDER BY array_position(ids, c.task_id);
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_COMMIT_FUNCTION)
    op.execute(_CLAIMED_DOC_FUNCTION)
    op.execute(_CLAIM_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION legato_claim(text, integer, bigint, text)")
    op.execute("DROP FUNCTION legato_claimed_doc(json, bigint, text)")
    op.execute("DROP FUNCTION legato_commit(jsonb, json, json, json, json)")
