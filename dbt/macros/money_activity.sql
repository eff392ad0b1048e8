{# Helpers of the money and activity marts (revenue_daily, session_outcomes, promotion_performance,
   message_delivery). #}

{# A surrogate key for a composite grain: md5 of the grain's columns as text, '|' between them. #}
{% macro money_activity__key(columns) -%}
  md5({% for c in columns %}coalesce(({{ c }})::text, '') {% if not loop.last %}|| '|' || {% endif %}{% endfor %})
{%- endmacro %}

{# The UTC day and the ISO week (its Monday, UTC) of an instant. #}
{% macro money_activity__utc_day(ts) -%}
  (({{ ts }}) at time zone 'UTC')::date
{%- endmacro %}
{% macro money_activity__utc_week(ts) -%}
  date_trunc('week', ({{ ts }}) at time zone 'UTC')::date
{%- endmacro %}

{# numerator / denominator as numeric rounded to 4 places; null when the denominator is 0. #}
{% macro money_activity__rate(numerator, denominator) -%}
  round(({{ numerator }})::numeric / nullif({{ denominator }}, 0), 4)
{%- endmacro %}

{# The incremental watermark: source rows changed after this instant are re-read. It is the newest
   change stamp the mart has counted (its source_changed_at column) less a lookback, so a
   transaction that committed late with an earlier stamp is still seen. Read before the model's
   query runs and written into it as a constant, so the planner sees how few rows are newer and
   reads them through the index on the change stamp. #}
{% macro money_activity__changed_after(lookback='1 hour') -%}
  {%- if execute -%}
    {%- set found = run_query(
        "select (coalesce(max(source_changed_at), '-infinity'::timestamptz) - interval '" ~ lookback ~ "')::text"
        ~ " from " ~ this) -%}
    '{{ found.columns[0].values()[0] }}'::timestamptz
  {%- else -%}
    '-infinity'::timestamptz
  {%- endif -%}
{%- endmacro %}
