-- Review pages in creation order for each filter without a sort step.
CREATE INDEX `examples_split_created_idx` ON `examples` (`project_id`, `split`, `created_at`);
--> statement-breakpoint
CREATE INDEX `examples_valid_created_idx` ON `examples` (`project_id`, `is_valid`, `created_at`);
--> statement-breakpoint
CREATE INDEX `examples_split_valid_created_idx` ON `examples` (`project_id`, `split`, `is_valid`, `created_at`);
