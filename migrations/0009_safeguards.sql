CREATE TYPE "public"."review_status" AS ENUM('PENDING_REVIEW', 'APPROVED', 'REJECTED');--> statement-breakpoint
ALTER TYPE "public"."dissolution_status" ADD VALUE 'PENDING_CONFIRMATION' BEFORE 'SCHEDULED';--> statement-breakpoint
CREATE TABLE "dissolution_reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"requested_by" text NOT NULL,
	"keep_history" boolean NOT NULL,
	"status" "review_status" NOT NULL,
	"items" jsonb NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "verification_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text NOT NULL,
	"group_id" uuid NOT NULL,
	"code_hash" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"tries" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dissolutions" ADD COLUMN "requested_device" text;--> statement-breakpoint
ALTER TABLE "dissolutions" ADD COLUMN "confirm_by" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dissolutions" ADD COLUMN "end_reason" text;--> statement-breakpoint
ALTER TABLE "dissolutions" ADD COLUMN "review_id" uuid;--> statement-breakpoint
ALTER TABLE "dissolution_reviews" ADD CONSTRAINT "dissolution_reviews_requested_by_users_id_fk" FOREIGN KEY ("requested_by") REFERENCES "public"."users"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verification_codes" ADD CONSTRAINT "verification_codes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "verification_codes" ADD CONSTRAINT "verification_codes_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dissolution_reviews_pending_idx" ON "dissolution_reviews" USING btree ("requested_at") WHERE "dissolution_reviews"."status" = 'PENDING_REVIEW';--> statement-breakpoint
CREATE INDEX "verification_codes_user_idx" ON "verification_codes" USING btree ("user_id","created_at");