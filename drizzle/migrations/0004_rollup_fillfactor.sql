-- Rollup rows are updated in place by every batch that touches them. Free space on each page lets
-- those updates stay on the page (HOT updates), so they need no new index entries.
ALTER TABLE "rollup_hours" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_days" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_hour_paths" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_day_paths" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_hour_types" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_day_types" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "user_months" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "rollup_minutes" SET (fillfactor = 70);--> statement-breakpoint
ALTER TABLE "ingest_ledger" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "sites" SET (fillfactor = 50);
