ALTER TABLE `examples` ADD `job_id` text;--> statement-breakpoint
CREATE INDEX `examples_job_idx` ON `examples` (`job_id`);