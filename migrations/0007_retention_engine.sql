CREATE TYPE "public"."retention_period" AS ENUM('FOREVER', 'ONE_YEAR', 'THREE_MONTHS', 'DAYS');--> statement-breakpoint
CREATE TABLE "group_departures" (
	"group_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"left_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "legal_holds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text,
	"conversation_id" uuid,
	"group_id" uuid,
	"from_at" timestamp with time zone,
	"to_at" timestamp with time zone,
	"reason" text NOT NULL,
	"placed_by" text NOT NULL,
	"placed_at" timestamp with time zone NOT NULL,
	"released_by" text,
	"released_at" timestamp with time zone,
	CONSTRAINT "legal_holds_one_scope_check" CHECK (num_nonnulls("legal_holds"."user_id", "legal_holds"."conversation_id", "legal_holds"."group_id") = 1)
);
--> statement-breakpoint
CREATE TABLE "retention_policies" (
	"user_id" text NOT NULL,
	"conversation_id" uuid,
	"period" "retention_period" NOT NULL,
	"days" integer,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "retention_policies_days_check" CHECK ("retention_policies"."days" IS NULL OR "retention_policies"."days" BETWEEN 1 AND 36500)
);
--> statement-breakpoint
CREATE TABLE "stars" (
	"message_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"starred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "stars_message_id_user_id_pk" PRIMARY KEY("message_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "t2_next_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "purged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "group_departures" ADD CONSTRAINT "group_departures_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_departures" ADD CONSTRAINT "group_departures_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stars" ADD CONSTRAINT "stars_message_id_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stars" ADD CONSTRAINT "stars_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "group_departures_group_idx" ON "group_departures" USING btree ("group_id","user_id");--> statement-breakpoint
CREATE INDEX "legal_holds_active_idx" ON "legal_holds" USING btree ("placed_at") WHERE "legal_holds"."released_at" IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "retention_policies_conversation_idx" ON "retention_policies" USING btree ("user_id","conversation_id") WHERE "retention_policies"."conversation_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "retention_policies_default_idx" ON "retention_policies" USING btree ("user_id") WHERE "retention_policies"."conversation_id" IS NULL;--> statement-breakpoint
CREATE INDEX "stars_user_idx" ON "stars" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "conversations_t2_due_idx" ON "conversations" USING btree ("t2_next_at") WHERE "conversations"."t2_next_at" is not null;--> statement-breakpoint
CREATE INDEX "messages_conversation_sent_idx" ON "messages" USING btree ("conversation_id","sent_at");--> statement-breakpoint
CREATE INDEX "messages_held_idx" ON "messages" USING btree ("conversation_id") WHERE "messages"."purged_at" IS NOT NULL;