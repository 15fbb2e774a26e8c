-- The covering index on (site_id, day, path, views) becomes one on the same columns in answer
-- order: range questions still read it alone, and one day's top paths read only its first `limit`
-- entries instead of aggregating and sorting every path of the day. Same columns, so writes cost
-- the same.
DROP INDEX "rollup_day_paths_covering";--> statement-breakpoint
CREATE INDEX "rollup_day_paths_top" ON "rollup_day_paths" USING btree ("site_id","day","views" DESC NULLS FIRST,"path" collate "C");
