-- gold/stage_bottlenecks: how long works sit in each lifecycle stage, and which stage holds them up most.
-- grain: one row per stage that was entered at least once, in lifecycle order.
-- A visit runs from a work's stage_entered event to that work's next stage_entered event, ordered by
-- occurred_at, then event_id; a visit with no next event is open. Per stage: completed_visits,
-- open_visits, and over completed visits avg_dwell_hours, median_dwell_hours and p90_dwell_hours
-- (continuous quantiles; null when there is no completed visit). is_bottleneck is true for exactly
-- one stage: the highest median_dwell_hours among stages with a completed visit, a tie going to the
-- earlier stage; no stage is a bottleneck while no visit has completed.
-- Timestamps go through ::timestamp (UTC wall clock): the timestamptz functions need ICU, which is not built in.

with

lifecycle as (
    select *
    from (
        values
            (1, 'draft'),
            (2, 'writing'),
            (3, 'revision'),
            (4, 'beta'),
            (5, 'submission'),
            (6, 'edit'),
            (7, 'scheduled'),
            (8, 'released'),
            (9, 'engagement')
    ) as lifecycle_stages (stage_no, stage)
),

stage_entries as (
    select
        event_id,
        work_id,
        stage,
        occurred_at::timestamp as entered_at
    from silver_events
    where event_type = 'stage_entered'
),

visits as (
    select
        stage,
        entered_at,
        lead(entered_at) over (partition by work_id order by entered_at, event_id) as left_at
    from stage_entries
),

visit_dwell as (
    select
        stage,
        left_at is not null as is_completed,
        date_diff('microsecond', entered_at, left_at) / 3600e6 as dwell_hours
    from visits
),

stage_dwell as (
    select
        stage,
        count(*) filter (where is_completed) as completed_visits,
        count(*) filter (where not is_completed) as open_visits,
        avg(dwell_hours)::double as avg_dwell_hours,
        quantile_cont(dwell_hours, 0.5)::double as median_dwell_hours,
        quantile_cont(dwell_hours, 0.9)::double as p90_dwell_hours
    from visit_dwell
    group by stage
),

ranked_stages as (
    select
        lifecycle.stage_no,
        stage_dwell.stage,
        stage_dwell.completed_visits,
        stage_dwell.open_visits,
        stage_dwell.avg_dwell_hours,
        stage_dwell.median_dwell_hours,
        stage_dwell.p90_dwell_hours,
        row_number() over (
            order by stage_dwell.median_dwell_hours desc nulls last, lifecycle.stage_no, stage_dwell.stage
        ) as dwell_rank
    from stage_dwell
    left join lifecycle on lifecycle.stage = stage_dwell.stage
),

final as (
    select
        stage_no,
        stage,
        completed_visits,
        open_visits,
        avg_dwell_hours,
        median_dwell_hours,
        p90_dwell_hours,
        dwell_rank = 1 and completed_visits > 0 as is_bottleneck
    from ranked_stages
)

-- stage_no only orders the rows: stages follow the lifecycle, not the alphabet.
select * exclude (stage_no) from final order by stage_no, stage
