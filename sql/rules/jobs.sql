-- pg_cron schedules (UTC). Each job calls exactly one idempotent function. cron.schedule with
-- an existing name updates that job, so this file is re-runnable.
select cron.schedule('expire-seat-holds', '* * * * *', $$select private.expire_holds()$$);
select cron.schedule('expire-packs', '* * * * *', $$select private.expire_packs()$$);
select cron.schedule('start-grace', '* * * * *', $$select private.start_grace()$$);
select cron.schedule('queue-grace-warnings', '* * * * *', $$select private.queue_grace_warnings()$$);
select cron.schedule('release-expired-seats', '* * * * *', $$select private.release_expired_seats()$$);
select cron.schedule('prune-cron-history', '17 3 * * *', $$select private.prune_cron_history()$$);
