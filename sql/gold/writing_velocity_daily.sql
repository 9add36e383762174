-- gold/writing_velocity_daily: how much is being written each day, and by how many creators.
-- grain: one row per day (UTC date of occurred_at) with at least one writing_session.
-- sessions = count of writing_session events; words = sum of their words;
-- active_creators = distinct creator_id with a session that day;
-- words_per_creator = words / active_creators (null if active_creators = 0).
-- Timestamps go through ::timestamp (UTC wall clock): the timestamptz casts need ICU, which is not built in.

with

writing_sessions as (
    select
        occurred_at::timestamp::date as day,
        creator_id,
        words
    from silver_events
    where event_type = 'writing_session'
),

daily as (
    select
        day,
        count(*) as sessions,
        sum(words)::bigint as words,
        count(distinct creator_id) as active_creators
    from writing_sessions
    group by day
),

final as (
    select
        day,
        sessions,
        words,
        active_creators,
        words::double / nullif(active_creators, 0) as words_per_creator
    from daily
)

select * from final order by day
