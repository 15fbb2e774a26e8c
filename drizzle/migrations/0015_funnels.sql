CREATE TABLE "funnels" (
	"site_id" text NOT NULL,
	"funnel_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"steps" uuid[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "funnels_site_id_funnel_id_pk" PRIMARY KEY("site_id","funnel_id")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "funnels_site_name" ON "funnels" USING btree ("site_id","name");