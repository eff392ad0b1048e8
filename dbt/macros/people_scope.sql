{#
  The incremental scope of the marts kept per pair of a mentor and a student (mentor_roster,
  renewals): every pack of the pairs in `pairs` (a CTE of mentor_id, student_id), read through the
  index on student_id. The students go in as one array, so the plan reads each through the index
  whatever it guesses of their number.
#}
{% macro people__packs_of_pairs(packs='packs', pairs='pairs') -%}
    select {{ packs }}.*
    from {{ packs }}
    where {{ packs }}.student_id = any(array(select student_id from {{ pairs }}))
        and ({{ packs }}.mentor_id, {{ packs }}.student_id) in (select mentor_id, student_id from {{ pairs }})
{%- endmacro %}
