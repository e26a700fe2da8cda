-- The users a transaction changed are noted once each. Every statement that records changes notes its
-- users, and the list was appended to as it was: a statement that fires one row trigger per row (a
-- reminder mirrored for each task of a bulk update, a seed, a backfill) re-read a list that grew by
-- one entry per row, quadratic in the rows of the transaction. Replacing the function takes no lock
-- on any table.
CREATE OR REPLACE FUNCTION "note_changed_users"(users UUID[]) RETURNS BOOLEAN LANGUAGE sql AS $$
  WITH noted AS (SELECT coalesce(nullif(current_setting('sync.changed_users', true), ''), '{}')::uuid[] AS ids)
  SELECT users IS NULL OR users <@ ids
      OR set_config('sync.changed_users', (SELECT array_agg(DISTINCT u ORDER BY u) FROM unnest(ids || users) u)::text, true) IS NOT NULL
    FROM noted
$$;
