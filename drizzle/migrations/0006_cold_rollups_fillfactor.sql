-- Path and event-type rollups are large and almost all cold: only the current hour's and day's
-- rows are updated, and those sit on the table's newest pages. Full pages halve nothing useful
-- there, so they go back to the default; the small hot tables (hours, days, ledger, sites,
-- minutes) and the per-user bitmaps keep their free space (0004).
ALTER TABLE "rollup_hour_paths" SET (fillfactor = 100);--> statement-breakpoint
ALTER TABLE "rollup_day_paths" SET (fillfactor = 100);--> statement-breakpoint
ALTER TABLE "rollup_hour_types" SET (fillfactor = 100);--> statement-breakpoint
ALTER TABLE "rollup_day_types" SET (fillfactor = 100);
