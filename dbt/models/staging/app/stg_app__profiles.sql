-- One row per person (auth.users), created by a trigger on sign-up.
select
    id as profile_id,
    role::text as role,
    email,
    display_name,
    time_zone,
    discord_user_id is not null as has_discord,
    created_at,
    updated_at
from {{ source('app', 'profiles') }}
