DROP INDEX `examples_project_split_idx`;--> statement-breakpoint
DROP INDEX `examples_file_idx`;--> statement-breakpoint
DROP INDEX `examples_job_idx`;