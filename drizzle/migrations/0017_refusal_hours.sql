CREATE TABLE "ingest_refusal_hours" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "ingest_refusal_hours_site_id_hour_reason_pk" PRIMARY KEY("site_id","hour","reason")
);
--> statement-breakpoint
CREATE INDEX "ingest_refusal_hours_hour_idx" ON "ingest_refusal_hours" USING btree ("hour");