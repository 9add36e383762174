-- gold/post_release_engagement: how readers took up each work in its first week after release.
-- grain: one row per work_id with at least one stage_entered event for stage 'released'.
-- released_at = the work's first entry into 'released'. Over the window
-- [released_at, released_at + 7 days): readers_7d = distinct reader_id with a reader_engagement,
-- sessions_7d = count of reader_engagement events, avg_engagement_seconds_7d = their mean
-- engagement_seconds (null if none), dropoffs_7d = distinct reader_id with a reader_dropoff.
-- readers_total = distinct reader_id with a reader_engagement at any time (before release too);
-- days_to_first_reader = days (double) from released_at to the first reader_engagement at or
-- after it, null if there is none.
-- Time arithmetic runs on ::timestamp (UTC wall clock) and released_at is cast back to
-- timestamptz: timestamptz + interval needs ICU, which is not built in.
-- reader_events is read twice and not materialized: DuckDB would otherwise hold every reader
-- event in memory at once (900 MB more of wasm memory at 10 million events).

with

releases as (
    select
        work_id,
        occurred_at::timestamp as released_at
    from silver_events
    where event_type = 'stage_entered' and stage = 'released'
),

reader_events as not materialized (
    select
        work_id,
        reader_id,
        event_type,
        engagement_seconds,
        occurred_at::timestamp as occurred_at
    from silver_events
    where event_type in ('reader_engagement', 'reader_dropoff')
),

first_releases as (
    select
        work_id,
        min(released_at) as released_at
    from releases
    group by work_id
),

release_window_events as (
    select
        first_releases.work_id,
        reader_events.reader_id,
        reader_events.event_type,
        reader_events.engagement_seconds
    from first_releases
    inner join reader_events
        on reader_events.work_id = first_releases.work_id
        and reader_events.occurred_at >= first_releases.released_at
        and reader_events.occurred_at < first_releases.released_at + interval 7 day
),

release_window as (
    select
        work_id,
        count(distinct reader_id) filter (where event_type = 'reader_engagement') as readers_7d,
        count(*) filter (where event_type = 'reader_engagement') as sessions_7d,
        (avg(engagement_seconds) filter (where event_type = 'reader_engagement'))::double
            as avg_engagement_seconds_7d,
        count(distinct reader_id) filter (where event_type = 'reader_dropoff') as dropoffs_7d
    from release_window_events
    group by work_id
),

all_time_readers as (
    select
        first_releases.work_id,
        count(distinct reader_events.reader_id) as readers_total,
        min(reader_events.occurred_at) filter (where reader_events.occurred_at >= first_releases.released_at)
            as first_reader_at
    from first_releases
    inner join reader_events on reader_events.work_id = first_releases.work_id
    where reader_events.event_type = 'reader_engagement'
    group by first_releases.work_id
),

final as (
    select
        first_releases.work_id,
        first_releases.released_at::timestamptz as released_at,
        coalesce(release_window.readers_7d, 0) as readers_7d,
        coalesce(release_window.sessions_7d, 0) as sessions_7d,
        release_window.avg_engagement_seconds_7d,
        coalesce(release_window.dropoffs_7d, 0) as dropoffs_7d,
        coalesce(all_time_readers.readers_total, 0) as readers_total,
        date_diff('microsecond', first_releases.released_at, all_time_readers.first_reader_at) / 86400e6
            as days_to_first_reader
    from first_releases
    left join release_window on release_window.work_id = first_releases.work_id
    left join all_time_readers on all_time_readers.work_id = first_releases.work_id
)

select * from final order by work_id
