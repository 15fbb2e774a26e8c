CREATE TABLE "minute_users" (
	"site_id" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "minute_users_site_id_minute_user_id_pk" PRIMARY KEY("site_id","minute","user_id")
);
--> statement-breakpoint
CREATE TABLE "rollup_day_paths" (
	"site_id" text NOT NULL,
	"day" date NOT NULL,
	"path" text NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_day_paths_site_id_day_path_pk" PRIMARY KEY("site_id","day","path")
);
--> statement-breakpoint
CREATE TABLE "rollup_day_types" (
	"site_id" text NOT NULL,
	"day" date NOT NULL,
	"event_type" text NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_day_types_site_id_day_event_type_pk" PRIMARY KEY("site_id","day","event_type")
);
--> statement-breakpoint
CREATE TABLE "rollup_days" (
	"site_id" text NOT NULL,
	"day" date NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	"users" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_days_site_id_day_pk" PRIMARY KEY("site_id","day")
);
--> statement-breakpoint
CREATE TABLE "rollup_hour_paths" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"path" text NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_hour_paths_site_id_hour_path_pk" PRIMARY KEY("site_id","hour","path")
);
--> statement-breakpoint
CREATE TABLE "rollup_hour_types" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"event_type" text NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_hour_types_site_id_hour_event_type_pk" PRIMARY KEY("site_id","hour","event_type")
);
--> statement-breakpoint
CREATE TABLE "rollup_hours" (
	"site_id" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	"users" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_hours_site_id_hour_pk" PRIMARY KEY("site_id","hour")
);
--> statement-breakpoint
CREATE TABLE "rollup_minutes" (
	"site_id" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"events" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "rollup_minutes_site_id_minute_pk" PRIMARY KEY("site_id","minute")
);
--> statement-breakpoint
CREATE TABLE "sites" (
	"site_id" text PRIMARY KEY NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"rollup_timezone" text DEFAULT 'UTC' NOT NULL,
	"first_event_at" timestamp with time zone,
	"last_event_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_months" (
	"site_id" text NOT NULL,
	"month" date NOT NULL,
	"user_id" text NOT NULL,
	"days" integer DEFAULT 0 NOT NULL,
	"hours" bit(768) DEFAULT repeat('0', 768)::bit(768) NOT NULL,
	CONSTRAINT "user_months_site_id_month_user_id_pk" PRIMARY KEY("site_id","month","user_id")
);
