CREATE TABLE "page_visitors" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"path" text NOT NULL,
	"visitor_id" text NOT NULL,
	"anonymous" boolean NOT NULL,
	CONSTRAINT "page_visitors_site_id_hour_path_visitor_id_anonymous_pk" PRIMARY KEY("site_id","hour","path","visitor_id","anonymous")
);
--> statement-breakpoint
-- The page views stored so far, bucketed in each site's rollup timezone as the worker does.
INSERT INTO "page_visitors" ("site_id","hour","path","visitor_id","anonymous")
SELECT DISTINCT e.site_id, date_trunc('hour', e.timestamp, s.rollup_timezone), e.path, coalesce(e.user_id, e.event_id), e.user_id IS NULL
  FROM events e JOIN sites s USING (site_id)
 WHERE e.event_type = 'page_view';
