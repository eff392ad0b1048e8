-- The analysts' login on the local stack: the role `analyst` (made by the analytics migration)
-- gets a password from the settings (MENTORSHIPS_ANALYST_PASSWORD); psql substitutes it. A hosted
-- project sets its own (`alter role analyst login password '...'`), never in a migration.
-- Before the migration has run there is no role yet: nothing to do.
select exists (select from pg_roles where rolname = 'analyst') as analyst_exists \gset
\if :analyst_exists
alter role analyst with login password :'analyst_password';
\endif
