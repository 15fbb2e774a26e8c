CREATE TABLE "events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"site_id" text NOT NULL,
	"event_id" text NOT NULL,
	"event_type" text NOT NULL,
	"path" text NOT NULL,
	"user_id" text,
	"timestamp" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX "events_site_event_id_key" ON "events" USING btree ("site_id","event_id");--> statement-breakpoint
CREATE INDEX "idx_events_site_date" ON "events" USING btree ("site_id",(("timestamp" AT TIME ZONE 'UTC')::date));--> statement-breakpoint
CREATE INDEX "idx_events_site_path" ON "events" USING btree ("site_id","path");--> statement-breakpoint
CREATE INDEX "idx_events_site_user" ON "events" USING btree ("site_id","user_id");--> statement-breakpoint
CREATE INDEX "idx_events_site_timestamp" ON "events" USING btree ("site_id","timestamp");