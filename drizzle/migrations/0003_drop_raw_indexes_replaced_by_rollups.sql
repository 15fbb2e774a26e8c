-- Stats are answered from the rollup tables (0002), so no query reads raw events by day, path or
-- user any more. These three indexes only slowed every insert (each event updated six indexes).
-- Kept: the primary key, (site_id, event_id) for exactly-once inserts, and (site_id, timestamp)
-- for rollup rebuilds.
DROP INDEX "idx_events_site_date";--> statement-breakpoint
DROP INDEX "idx_events_site_path";--> statement-breakpoint
DROP INDEX "idx_events_site_user";