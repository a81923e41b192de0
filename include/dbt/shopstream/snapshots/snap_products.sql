{% snapshot snap_products %}

-- The live products of staging (a row deleted in the source leaves this query, and the snapshot's
-- `hard_deletes: invalidate` closes its version). The delete flag itself is not versioned.
select * exclude (is_deleted, deleted_at)
from {{ ref('stg_shopstream__products') }}
where not is_deleted

{% endsnapshot %}
