with

labels as (
    select * from {{ ref('stg_dongne_db__moderation_labels') }}
),

listings as (
    select * from {{ ref('int_listings_current') }}
),

posts as (
    select * from {{ ref('int_posts_current') }}
),

rules as (
    select * from {{ ref('moderation_keyword_rules') }}
),

-- docs/marts.md: the latest human label by labeled_at (a tie goes to the largest label_id);
-- model labels are ignored.
latest_human_labels as (
    select
        target_type,
        target_id,
        label
    from labels
    where label_source = 'human'
    qualify row_number() over (
            partition by target_type, target_id
            order by labeled_at desc nulls last, label_id desc
        ) = 1
),

-- Targets that exist in their table, with their text (current state), phone numbers and
-- e-mail addresses replaced by <phone> and <email>: the classifier learns from this text.
texts as (
    select
        'listing' as target_type,
        listing_id as target_id,
        {{ scrub_contacts(dbt.concat(["coalesce(title, '')", "'\n'", "coalesce(description, '')"])) }}
            as text -- noqa: RF04
    from listings
    union all
    select
        'post' as target_type,
        post_id as target_id,
        {{ scrub_contacts('body') }} as text -- noqa: RF04
    from posts
),

labelled as (
    select
        latest_human_labels.target_type,
        latest_human_labels.target_id,
        texts.text,
        latest_human_labels.label
    from latest_human_labels
    inner join texts
        on
            latest_human_labels.target_type = texts.target_type
            and latest_human_labels.target_id = texts.target_id
),

-- The platform's own heuristic: the highest-priority keyword rule that fires, if any.
weak_labels as (
    select
        labelled.target_type,
        labelled.target_id,
        rules.label as weak_label
    from labelled
    inner join rules
        on {{ dbt.position('lower(rules.keyword)', 'lower(labelled.text)') }} > 0
    qualify row_number() over (
            partition by labelled.target_type, labelled.target_id
            order by rules.priority, rules.rule_id
        ) = 1
),

-- Deterministic ~80/10/10 split by target, stable across rebuilds.
buckets as (
    select
        labelled.*,
        weak_labels.weak_label,
        {{ stable_bucket(dbt.concat([
            'labelled.target_type', "':'",
            dbt.cast('labelled.target_id', api.Column.translate_type('string'))
        ]), 10) }} as split_bucket
    from labelled
    left join weak_labels
        on
            labelled.target_type = weak_labels.target_type
            and labelled.target_id = weak_labels.target_id
),

final as (
    select
        *,
        case
            when split_bucket < 8 then 'train'
            when split_bucket = 8 then 'valid'
            else 'test'
        end as split
    from buckets
)

select
    target_type,
    target_id,
    text,
    label,
    weak_label,
    split
from final
