{#
  Generic tests of the people-and-seats marts (no dbt Hub packages are reachable here).
  people_unique_combination: no two rows share the values of `columns` (a composite key).
#}
{% test people_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
