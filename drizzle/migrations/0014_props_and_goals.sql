CREATE TABLE "goals" (
	"site_id" text NOT NULL,
	"goal_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"event_type" text,
	"page" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "goals_site_id_goal_id_pk" PRIMARY KEY("site_id","goal_id"),
	CONSTRAINT "goals_one_kind" CHECK (("goals"."event_type" is null) <> ("goals"."page" is null))
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "props" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "goals_site_name" ON "goals" USING btree ("site_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "goals_site_event_type" ON "goals" USING btree ("site_id","event_type");--> statement-breakpoint
CREATE UNIQUE INDEX "goals_site_page" ON "goals" USING btree ("site_id","page");