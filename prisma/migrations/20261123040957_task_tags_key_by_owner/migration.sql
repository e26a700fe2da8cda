-- task_tags is keyed by its owner first, (user_id, task_id, tag_id), so that one user's links sit together
-- in the index: a page of tasks then reads its tags from one or two index pages, not one per task
-- (random task ids scatter them). The same rows are unique either way: a link's user_id is its task's.
-- Rebuilding the key locks task_tags for the length of the build.
-- AlterTable
ALTER TABLE "task_tags" DROP CONSTRAINT "task_tags_pkey",
ADD CONSTRAINT "task_tags_pkey" PRIMARY KEY ("user_id", "task_id", "tag_id");
