CREATE TYPE "public"."dissolution_status" AS ENUM('SCHEDULED', 'EFFECTIVE', 'CANCELLED', 'RESTORED', 'FINALIZED');--> statement-breakpoint
CREATE TABLE "dissolutions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"group_id" uuid NOT NULL,
	"requested_by" text NOT NULL,
	"status" "dissolution_status" NOT NULL,
	"keep_history" boolean NOT NULL,
	"member_count" integer NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"undo_until" timestamp with time zone NOT NULL,
	"payments_leave_at" timestamp with time zone NOT NULL,
	"payments_left_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	"next_due_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "dissolutions" ADD CONSTRAINT "dissolutions_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dissolutions" ADD CONSTRAINT "dissolutions_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dissolutions_in_force_idx" ON "dissolutions" USING btree ("group_id") WHERE "dissolutions"."status" NOT IN ('CANCELLED', 'RESTORED');--> statement-breakpoint
CREATE INDEX "dissolutions_due_idx" ON "dissolutions" USING btree ("next_due_at") WHERE "dissolutions"."next_due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "dissolutions_group_idx" ON "dissolutions" USING btree ("group_id","requested_at");