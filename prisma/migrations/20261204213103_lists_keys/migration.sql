-- The keys lists rely on. Building the indexes blocks writes to tasks (not reads) while it runs; the
-- foreign keys are added NOT VALID (no scan) under a lock that blocks writes only, and the triggers
-- come with them.

-- CreateIndex
CREATE UNIQUE INDEX "tasks_id_list_id_user_id_key" ON "tasks"("id", "list_id", "user_id");
CREATE UNIQUE INDEX "tasks_top_level_position_key" ON "tasks"("user_id", "list_id", "position") WHERE parent_id IS NULL;
CREATE UNIQUE INDEX "tasks_subtask_position_key" ON "tasks"("user_id", "parent_id", "position") WHERE parent_id IS NOT NULL;

-- AddForeignKey
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_list_id_user_id_fkey" FOREIGN KEY ("list_id", "user_id") REFERENCES "lists"("id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_parent_id_list_id_user_id_fkey" FOREIGN KEY ("parent_id", "list_id", "user_id") REFERENCES "tasks"("id", "list_id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;

-- The version trigger as before the backfill (every list_id is set now), and one more exception:
-- giving a sibling group evenly spaced keys again (same order, see src/tasks/positions.ts) is no change
-- a client sees. The server says so for its own transaction with tasks.rebalancing.
CREATE OR REPLACE FUNCTION "bump_task_version"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tasks.rebalancing', true) = 'on' THEN
    NEW.updated_at := OLD.updated_at;
    NEW.version := OLD.version;
    RETURN NEW;
  END IF;
  NEW.updated_at := now();
  IF NEW.version > OLD.version
     OR (to_jsonb(NEW) - 'reminder_sent_at' - 'updated_at' - 'version') IS DISTINCT FROM (to_jsonb(OLD) - 'reminder_sent_at' - 'updated_at' - 'version') THEN
    NEW.version := OLD.version + 1;
  ELSE
    NEW.version := OLD.version;
  END IF;
  RETURN NEW;
END $$;

-- The shape of a user's task tree, checked in one place: at most 4 levels, and no task under its own
-- descendant. One user's tree changes one statement at a time (a transaction-scoped advisory lock
-- per user): of two concurrent moves that would together make a cycle, the second to take the lock
-- reads the first's committed result and is refused. Statements in this function read a fresh
-- snapshot, taken after the lock.
-- Statements that change a tree take the lock before they lock any row (the server gates them on
-- it), so that no two writers each hold what the other waits for.
CREATE FUNCTION "lock_task_tree"(owner UUID) RETURNS boolean LANGUAGE sql AS $$
  SELECT true FROM (SELECT pg_advisory_xact_lock(hashtextextended('tasks tree ' || owner::text, 0))) AS locked;
$$;

CREATE FUNCTION "check_task_tree"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  levels_above INT;
  makes_cycle BOOLEAN;
  levels_below INT := 1;
BEGIN
  PERFORM lock_task_tree(NEW.user_id);
  WITH RECURSIVE up AS (
    SELECT id, parent_id, 1 AS level FROM tasks WHERE id = NEW.parent_id AND user_id = NEW.user_id
    UNION ALL
    SELECT t.id, t.parent_id, up.level + 1 FROM tasks t JOIN up ON t.id = up.parent_id AND t.user_id = NEW.user_id WHERE up.level < 5
  )
  SELECT count(*), coalesce(bool_or(id = NEW.id), false) INTO levels_above, makes_cycle FROM up;
  IF makes_cycle THEN
    RAISE EXCEPTION 'task % cannot go under its own descendant %', NEW.id, NEW.parent_id
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_tree_no_cycle';
  END IF;
  IF TG_OP = 'UPDATE' THEN
    WITH RECURSIVE down AS (
      SELECT id, 1 AS level FROM tasks WHERE id = NEW.id AND user_id = NEW.user_id
      UNION ALL
      SELECT t.id, down.level + 1 FROM tasks t JOIN down ON t.parent_id = down.id AND t.user_id = NEW.user_id WHERE down.level < 5
    )
    SELECT max(level) INTO levels_below FROM down;
  END IF;
  IF levels_above + levels_below > 4 THEN
    RAISE EXCEPTION 'task % would be % levels deep (at most 4)', NEW.id, levels_above + levels_below
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_tree_depth';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "tasks_check_tree" BEFORE INSERT OR UPDATE OF "parent_id" ON "tasks" FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL) EXECUTE FUNCTION "check_task_tree"();

-- An open task never sits under a completed one: completing a task completes its open subtasks (and
-- theirs, as each completion fires this again), and reopening a task, or adding or moving an open
-- task under a completed one, reopens the completed parent (and its own, likewise). Under the tree's lock, so a
-- completion and a reopening racing in one tree cannot both miss each other.
CREATE FUNCTION "keep_open_tasks_under_open"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM lock_task_tree(NEW.user_id);
  IF NEW.completed THEN
    UPDATE tasks SET completed = true, completed_at = NEW.completed_at
     WHERE user_id = NEW.user_id AND parent_id = NEW.id AND NOT completed;
  ELSIF NEW.parent_id IS NOT NULL THEN
    UPDATE tasks SET completed = false, completed_at = NULL
     WHERE user_id = NEW.user_id AND id = NEW.parent_id AND completed;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "tasks_complete_subtree" AFTER UPDATE OF "completed", "parent_id" ON "tasks" FOR EACH ROW
  WHEN (OLD.completed IS DISTINCT FROM NEW.completed OR (OLD.parent_id IS DISTINCT FROM NEW.parent_id AND NOT NEW.completed))
  EXECUTE FUNCTION "keep_open_tasks_under_open"();
CREATE TRIGGER "tasks_open_under_open" AFTER INSERT ON "tasks" FOR EACH ROW
  WHEN (NEW.parent_id IS NOT NULL AND NOT NEW.completed) EXECUTE FUNCTION "keep_open_tasks_under_open"();
