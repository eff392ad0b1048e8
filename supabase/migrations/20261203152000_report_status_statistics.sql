-- Statistics for the reports' plans. The dbt staging views give enum columns as text
-- (`status::text`), and the models filter on that text (`orders.status in ('paid', 'refunded')`):
-- without statistics on the expression the planner guesses 0.5 % of the rows (925 of 217,000
-- orders at 1M sessions) and joins whole tables where an index would do (revenue_daily's
-- incremental query: 572 ms before, 109 ms after). ANALYZE (autovacuum) keeps them.
create statistics if not exists public.orders_status_text on ((status::text)) from public.orders;
create statistics if not exists public.session_packs_status_text on ((status::text)) from public.session_packs;
create statistics if not exists public.seat_reservations_status_text on ((status::text)) from public.seat_reservations;
create statistics if not exists public.sessions_status_text on ((status::text)) from public.sessions;
analyze public.orders, public.session_packs, public.seat_reservations, public.sessions;
