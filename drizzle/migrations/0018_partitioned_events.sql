-- Raw events move to a table partitioned by UTC month of "timestamp", so retention drops whole
-- months (worker/jobs/partitions.ts). Written by hand: drizzle-kit cannot declare partitioning.
-- All of it runs in the migrator's one transaction; renaming the table first takes its exclusive
-- lock, so writers wait for the copy and no event is written between the copy and the switch.
ALTER TABLE "events" RENAME TO "events_unpartitioned";--> statement-breakpoint
ALTER TABLE "events_unpartitioned" DROP CONSTRAINT "events_pkey";--> statement-breakpoint
DROP INDEX "events_site_event_id_key";--> statement-breakpoint
DROP INDEX "idx_events_site_timestamp";--> statement-breakpoint
-- The idempotency key leaves the events: a unique key of a partitioned table must contain the
-- partition key, and a retry with another timestamp would then be stored twice. The key is built
-- after the copy (one sort instead of an index insert per row).
CREATE TABLE "event_ids" (
	"site_id" text NOT NULL,
	"event_id" text NOT NULL
);
--> statement-breakpoint
INSERT INTO "event_ids" ("site_id", "event_id") SELECT "site_id", "event_id" FROM "events_unpartitioned";--> statement-breakpoint
ALTER TABLE "event_ids" ADD CONSTRAINT "event_ids_site_id_event_id_pk" PRIMARY KEY("site_id","event_id");--> statement-breakpoint
-- The same columns in the same order, without the global row number "id" (a bigserial key would
-- keep the table from being distributed by site_id; nothing read it).
CREATE TABLE "events" (
	"site_id" text NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"path" text NOT NULL,
	"user_id" text,
	"timestamp" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"referrer" text,
	"source" text DEFAULT 'Direct / None' NOT NULL,
	"channel" text DEFAULT 'Direct' NOT NULL,
	"utm_source" text,
	"utm_medium" text,
	"utm_campaign" text,
	"utm_content" text,
	"utm_term" text,
	"browser" text,
	"os" text,
	"device" text,
	"country" text,
	"props" jsonb
) PARTITION BY RANGE ("timestamp");
--> statement-breakpoint
-- Events of a month without a partition (older than the first one made, or of a month retention
-- has dropped) are kept here rather than refused.
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;--> statement-breakpoint
-- Creates the partition of the UTC month that starts on month_start unless it exists; events of
-- that month waiting in the default partition move into it (attaching would fail on them).
-- Returns whether it created one. The migration and the worker's prune job both call it.
CREATE FUNCTION "ensure_event_partition"(month_start date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	name text := 'events_p' || to_char(month_start, 'YYYYMM');
	lo timestamptz := date_trunc('month', month_start)::timestamp AT TIME ZONE 'UTC';
	hi timestamptz := (date_trunc('month', month_start) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
BEGIN
	IF to_regclass(name) IS NOT NULL THEN RETURN false; END IF;
	-- Two workers' prune jobs may race for the same month.
	PERFORM pg_advisory_xact_lock(hashtext('ensure_event_partition'));
	IF to_regclass(name) IS NOT NULL THEN RETURN false; END IF;
	EXECUTE format('CREATE TABLE %I (LIKE "events" INCLUDING DEFAULTS)', name);
	EXECUTE format('WITH moved AS (DELETE FROM "events_default" WHERE "timestamp" >= %L AND "timestamp" < %L RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, name);
	EXECUTE format('ALTER TABLE "events" ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
	RETURN true;
END
$$;--> statement-breakpoint
-- A partition for every month that has events, and for this month and the next two.
SELECT "ensure_event_partition"(m::date) FROM (
	SELECT DISTINCT date_trunc('month', "timestamp" AT TIME ZONE 'UTC') AS m FROM "events_unpartitioned"
	UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => ahead) FROM generate_series(0, 2) AS ahead
) months ORDER BY m;--> statement-breakpoint
INSERT INTO "events" ("site_id", "event_id", "event_type", "path", "user_id", "timestamp", "received_at", "created_at", "referrer", "source", "channel",
                      "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "browser", "os", "device", "country", "props")
SELECT "site_id", "event_id", "event_type", "path", "user_id", "timestamp", "received_at", "created_at", "referrer", "source", "channel",
       "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "browser", "os", "device", "country", "props"
  FROM "events_unpartitioned";--> statement-breakpoint
-- Built after the copy, on every partition at once (and on each later one as it is attached).
CREATE INDEX "idx_events_site_timestamp" ON "events" USING btree ("site_id","timestamp");--> statement-breakpoint
DROP TABLE "events_unpartitioned";--> statement-breakpoint
-- New tables have no statistics until autovacuum gets to them, and the planner would guess badly meanwhile.
ANALYZE "events";--> statement-breakpoint
ANALYZE "event_ids";--> statement-breakpoint
CREATE TABLE "event_retention" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"dropped_before" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_retention_singleton" CHECK ("event_retention"."singleton")
);
