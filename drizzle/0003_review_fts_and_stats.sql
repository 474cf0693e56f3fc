-- Review step: full-text search over examples (FTS5, external content) and
-- per-(project, split, validity) aggregates kept up to date by triggers, so stats
-- and page counts never scan the examples table.
CREATE VIRTUAL TABLE `examples_fts` USING fts5(instruction, input, output, content='examples', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `examples_fts`(rowid, instruction, input, output) SELECT rowid, instruction, input, output FROM `examples`;
--> statement-breakpoint
CREATE TABLE `example_counts` (
	`project_id` text NOT NULL,
	`split` text NOT NULL,
	`is_valid` integer NOT NULL,
	`n` integer NOT NULL DEFAULT 0,
	`tokens` integer NOT NULL DEFAULT 0,
	PRIMARY KEY(`project_id`, `split`, `is_valid`),
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `example_counts`(project_id, split, is_valid, n, tokens) SELECT project_id, split, is_valid, count(*), coalesce(sum(token_count), 0) FROM `examples` GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE INDEX `examples_review_idx` ON `examples` (`project_id`, `split`, `is_valid`, `token_count`);
--> statement-breakpoint
CREATE INDEX `examples_project_created_idx` ON `examples` (`project_id`, `created_at`);
--> statement-breakpoint
CREATE TRIGGER `examples_ai` AFTER INSERT ON `examples` BEGIN
  INSERT INTO `examples_fts`(rowid, instruction, input, output) VALUES (new.rowid, new.instruction, new.input, new.output);
  INSERT INTO `example_counts`(project_id, split, is_valid, n, tokens) VALUES (new.project_id, new.split, new.is_valid, 1, new.token_count)
    ON CONFLICT(project_id, split, is_valid) DO UPDATE SET n = n + 1, tokens = tokens + excluded.tokens;
END;
--> statement-breakpoint
CREATE TRIGGER `examples_ad` AFTER DELETE ON `examples` BEGIN
  INSERT INTO `examples_fts`(examples_fts, rowid, instruction, input, output) VALUES ('delete', old.rowid, old.instruction, old.input, old.output);
  UPDATE `example_counts` SET n = n - 1, tokens = tokens - old.token_count
    WHERE project_id = old.project_id AND split = old.split AND is_valid = old.is_valid;
END;
--> statement-breakpoint
CREATE TRIGGER `examples_au` AFTER UPDATE OF instruction, input, output, split, is_valid, token_count ON `examples` BEGIN
  INSERT INTO `examples_fts`(examples_fts, rowid, instruction, input, output) VALUES ('delete', old.rowid, old.instruction, old.input, old.output);
  INSERT INTO `examples_fts`(rowid, instruction, input, output) VALUES (new.rowid, new.instruction, new.input, new.output);
  UPDATE `example_counts` SET n = n - 1, tokens = tokens - old.token_count
    WHERE project_id = old.project_id AND split = old.split AND is_valid = old.is_valid;
  INSERT INTO `example_counts`(project_id, split, is_valid, n, tokens) VALUES (new.project_id, new.split, new.is_valid, 1, new.token_count)
    ON CONFLICT(project_id, split, is_valid) DO UPDATE SET n = n + 1, tokens = tokens + excluded.tokens;
END;
