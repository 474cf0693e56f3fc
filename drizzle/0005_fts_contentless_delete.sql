-- Every index on examples costs time on each delete (deleting 10,000 examples took
-- ~2 s with eleven of them). Invalid-only pages are short; they can do without their own.
DROP INDEX IF EXISTS `examples_valid_created_idx`;
