{# The instant a report is built for: the business clock (private.clock_now(): now() in production,
   the frozen instant of a demo history or a test), so "this month" and "days since" agree with the
   rules that wrote the rows. #}
{% macro report_now() -%}
  (select private.clock_now())
{%- endmacro %}
