-- Every task now has a list and a position (the previous migration's backfill). The migrations that
-- follow make that a rule in steps, each its own transaction, so that no lock that stops reads is held
-- while a step scans or builds: a lock taken in a migration lasts until its end.
-- Here: a CHECK that later steps prove and turn into NOT NULL. Added NOT VALID: no scan, a moment's lock.
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_list_id_not_null" CHECK (list_id IS NOT NULL AND position IS NOT NULL) NOT VALID;
