{#
  accepted_values whose list is a Postgres enum's labels, read when the test runs: for a column
  whose enum grows with the product (notification kinds), a list written in the yml would go stale
  with the next migration that adds a label.
#}
{% test in_enum(model, column_name, enum) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }}::text <> all (enum_range(null::{{ enum }})::text[])
{% endtest %}
