CREATE TABLE "page_visitors" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"path_key" uuid NOT NULL,
	"visitor_key" uuid NOT NULL,
	"anonymous" boolean NOT NULL,
	"path" text NOT NULL,
	CONSTRAINT "page_visitors_site_id_hour_path_key_visitor_key_anonymous_pk" PRIMARY KEY("site_id","hour","path_key","visitor_key","anonymous")
);
--> statement-breakpoint
-- The page views stored so far, bucketed in each site's rollup timezone as the worker does.
INSERT INTO "page_visitors" ("site_id","hour","path_key","visitor_key","anonymous","path")
SELECT DISTINCT e.site_id, date_trunc('hour', e.timestamp, s.rollup_timezone), md5(e.path)::uuid, md5(coalesce(e.user_id, e.event_id))::uuid, e.user_id IS NULL, e.path
  FROM events e JOIN sites s USING (site_id)
 WHERE e.event_type = 'page_view';
