-- late_rejects: the rows of batch_checked rejected in the engine, in line order:
-- stage expectation for a broken `drop` rule, stage duplicate for an event_id already in silver
-- (another batch) or on an earlier line of this batch. Only the few repeated ids get a window.
-- {{dropped}}: true when a row broke a drop rule; {{reasons}}, {{errors}}: its lists of rule names
-- and messages; {{batch_id}}: this batch, as a literal.

with

kept as (
    select row_idx, line_no, event_id, ingested_at
    from batch_checked
    where not ({{dropped}})
),

prior as (
    select k.row_idx, k.line_no, k.event_id, k.ingested_at, p.batch_id as prior_batch
    from kept as k
    join (select event_id, batch_id from silver_events where batch_id <> {{batch_id}}) as p using (event_id)
),

repeated as (
    select
        row_idx, line_no, event_id, ingested_at,
        row_number() over (partition by event_id order by line_no) as occurrence,
        min(line_no) over (partition by event_id) as first_line
    from kept
    where event_id in (select event_id from kept group by event_id having count(*) > 1)
),

duplicates as (
    select row_idx, line_no, event_id, ingested_at, prior_batch, null::bigint as first_line
    from prior
    union all
    select row_idx, line_no, event_id, ingested_at, null, first_line
    from repeated
    where occurrence > 1 and row_idx not in (select row_idx from prior)
)

select row_idx, line_no, event_id, 'expectation' as stage, {{reasons}} as reasons, {{errors}} as errors, ingested_at
from batch_checked
where {{dropped}}

union all

select
    row_idx, line_no, event_id, 'duplicate', ['duplicate_event_id'],
    [case
        when prior_batch is not null
            then '/event_id: ' || event_id || ' was already accepted in batch ' || prior_batch
        else '/event_id: ' || event_id || ' already appeared at line ' || first_line || ' of this batch'
    end],
    ingested_at
from duplicates

order by line_no
