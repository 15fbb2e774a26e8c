CREATE TABLE "visits" (
	"site_id" text NOT NULL,
	"visitor_id" text NOT NULL,
	"anonymous" boolean NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone NOT NULL,
	"first_event_id" text NOT NULL,
	"last_event_id" text NOT NULL,
	"events" integer NOT NULL,
	"views" integer NOT NULL,
	"entry_page" text NOT NULL,
	"exit_page" text NOT NULL,
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
	CONSTRAINT "visits_site_id_visitor_id_anonymous_started_at_pk" PRIMARY KEY("site_id","visitor_id","anonymous","started_at")
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "referrer" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "source" text DEFAULT 'Direct / None' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "channel" text DEFAULT 'Direct' NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "utm_source" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "utm_medium" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "utm_campaign" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "utm_content" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "utm_term" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "browser" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "os" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "device" text;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "country" text;--> statement-breakpoint
CREATE INDEX "visits_site_started" ON "visits" USING btree ("site_id","started_at");--> statement-breakpoint
-- Visits of the events stored so far (the worker keeps them from now on); as worker/visits builds them.
INSERT INTO "visits" ("site_id","visitor_id","anonymous","started_at","ended_at","first_event_id","last_event_id","events","views","entry_page","exit_page","referrer","source","channel","utm_source","utm_medium","utm_campaign","utm_content","utm_term","browser","os","device","country")
WITH e AS (
  SELECT *, coalesce(user_id, event_id) AS visitor_id, user_id IS NULL AS anonymous,
         CASE WHEN user_id IS NULL
                OR lag(timestamp) OVER (PARTITION BY site_id, user_id ORDER BY timestamp, event_id COLLATE "C") IS NULL
                OR timestamp - lag(timestamp) OVER (PARTITION BY site_id, user_id ORDER BY timestamp, event_id COLLATE "C") > interval '30 minutes'
              THEN 1 ELSE 0 END AS starts
    FROM events
), numbered AS (
  SELECT *, sum(starts) OVER (PARTITION BY site_id, anonymous, visitor_id ORDER BY timestamp, event_id COLLATE "C") AS visit_no FROM e
)
SELECT site_id, visitor_id, anonymous, min(timestamp), max(timestamp),
       (array_agg(event_id ORDER BY timestamp, event_id COLLATE "C"))[1],
       (array_agg(event_id ORDER BY timestamp DESC, event_id COLLATE "C" DESC))[1],
       count(*)::int, (count(*) FILTER (WHERE event_type = 'page_view'))::int,
       (array_agg(path ORDER BY timestamp, event_id COLLATE "C"))[1],
       (array_agg(path ORDER BY timestamp DESC, event_id COLLATE "C" DESC))[1],
       NULL, 'Direct / None', 'Direct', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM numbered GROUP BY site_id, visitor_id, anonymous, visit_no;
