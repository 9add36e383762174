-- gold/revision_churn_daily: how many words were reworked each day, against how many were newly written.
-- grain: one row per day (UTC date of occurred_at) with at least one revision.
-- revisions = count of revision events; works_revised = distinct work_id revised;
-- words_changed = sum of words_changed; words_written = sum of words of that day's
-- writing_session events, 0 if there were none; churn_ratio = words_changed / words_written
-- (null when words_written = 0).
-- Timestamps go through ::timestamp (UTC wall clock): the timestamptz casts need ICU, which is not built in.

with

revisions as (
    select
        occurred_at::timestamp::date as day,
        work_id,
        words_changed
    from silver_events
    where event_type = 'revision'
),

writing_sessions as (
    select
        occurred_at::timestamp::date as day,
        words
    from silver_events
    where event_type = 'writing_session'
),

revisions_daily as (
    select
        day,
        count(*) as revisions,
        count(distinct work_id) as works_revised,
        sum(words_changed)::bigint as words_changed
    from revisions
    group by day
),

writing_daily as (
    select
        day,
        sum(words)::bigint as words_written
    from writing_sessions
    group by day
),

churn_daily as (
    select
        revisions_daily.day,
        revisions_daily.revisions,
        revisions_daily.works_revised,
        revisions_daily.words_changed,
        coalesce(writing_daily.words_written, 0)::bigint as words_written
    from revisions_daily
    left join writing_daily on writing_daily.day = revisions_daily.day
),

final as (
    select
        day,
        revisions,
        works_revised,
        words_changed,
        words_written,
        words_changed::double / nullif(words_written, 0) as churn_ratio
    from churn_daily
)

select * from final order by day
