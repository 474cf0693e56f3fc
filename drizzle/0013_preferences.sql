CREATE TABLE `preferences` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`source` text NOT NULL,
	`prompt` text NOT NULL,
	`chosen` text NOT NULL,
	`rejected` text NOT NULL,
	`chosen_by` text NOT NULL,
	`rejected_by` text NOT NULL,
	`run_id` text,
	`question_id` text,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`updated_at` integer,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `preferences_project_idx` ON `preferences` (`project_id`,`created_at`);