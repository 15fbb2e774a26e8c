CREATE TABLE "value_visitors" (
	"site_id" text NOT NULL,
	"property" text NOT NULL,
	"month" date NOT NULL,
	"value_key" uuid NOT NULL,
	"visitor_key" uuid NOT NULL,
	"days" integer DEFAULT 0 NOT NULL,
	"marked" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "value_visitors_site_id_property_month_value_key_visitor_key_pk" PRIMARY KEY("site_id","property","month","value_key","visitor_key") INCLUDE ("days")
);
--> statement-breakpoint
CREATE TABLE "visit_days" (
	"site_id" text NOT NULL,
	"property" text NOT NULL,
	"day" date NOT NULL,
	"value_key" uuid NOT NULL,
	"value" text NOT NULL,
	"visits" integer DEFAULT 0 NOT NULL,
	"visitors" integer DEFAULT 0 NOT NULL,
	"anonymous" integer DEFAULT 0 NOT NULL,
	"bounces" integer DEFAULT 0 NOT NULL,
	"duration_ms" bigint DEFAULT 0 NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "visit_days_site_id_property_day_value_key_pk" PRIMARY KEY("site_id","property","day","value_key")
);
--> statement-breakpoint
-- Every site's lock, as jobs take them (in key order), until the migration commits: a worker of the previous
-- version still running cannot change visits between this backfill's read and its commit.
SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext(site_id) AS k FROM sites) s ORDER BY k;
--> statement-breakpoint
-- The visits and page views stored so far, by day of each site's rollup timezone, as the worker keeps them (worker/visits/rollups.ts).
WITH counted AS MATERIALIZED (
  SELECT v.site_id, pv.property, (v.started_at AT TIME ZONE s.rollup_timezone)::date AS day, pv.value, v.visitor_id, v.anonymous, 1 AS visits,
         (v.events = 1)::int AS bounces, (extract(epoch FROM v.ended_at - v.started_at) * 1000)::bigint AS duration_ms, v.views
    FROM visits v JOIN sites s USING (site_id)
   CROSS JOIN LATERAL (VALUES ('', ''), ('source', coalesce(v.source, '(not set)')), ('channel', coalesce(v.channel, '(not set)')), ('utm_source', v.utm_source), ('utm_medium', v.utm_medium), ('utm_campaign', v.utm_campaign), ('utm_content', v.utm_content), ('utm_term', v.utm_term), ('referrer', coalesce(v.referrer, '(not set)')), ('entry_page', coalesce(v.entry_page, '(not set)')), ('exit_page', coalesce(v.exit_page, '(not set)')), ('browser', coalesce(v.browser, '(not set)')), ('os', coalesce(v.os, '(not set)')), ('device', coalesce(v.device, '(not set)')), ('country', coalesce(v.country, '(not set)'))) AS pv(property, value)
   WHERE pv.value IS NOT NULL
  UNION ALL
  SELECT e.site_id, 'page', (e.timestamp AT TIME ZONE s.rollup_timezone)::date, e.path, coalesce(e.user_id, e.event_id), e.user_id IS NULL, 0, 0, 0, 1
    FROM events e JOIN sites s USING (site_id)
   WHERE e.event_type = 'page_view'
), marked AS (
  INSERT INTO "value_visitors" ("site_id","property","month","value_key","visitor_key","days")
  SELECT site_id, property, day - (extract(day FROM day)::int - 1), md5(value)::uuid, md5(visitor_id)::uuid, bit_or(1 << (extract(day FROM day)::int - 1))
    FROM counted WHERE NOT anonymous GROUP BY 1, 2, 3, 4, 5
)
INSERT INTO "visit_days" ("site_id","property","day","value_key","value","visits","visitors","anonymous","bounces","duration_ms","views")
SELECT site_id, property, day, md5(value)::uuid, min(value), sum(visits),
       count(DISTINCT visitor_id) FILTER (WHERE NOT anonymous) + count(*) FILTER (WHERE anonymous), count(*) FILTER (WHERE anonymous),
       sum(bounces), sum(duration_ms), sum(views)
  FROM counted GROUP BY site_id, property, day, md5(value)::uuid;
