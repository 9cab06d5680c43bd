CREATE TABLE "audit_entries" (
	"subject_id" uuid NOT NULL,
	"subject_kind" text NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"actor_id" text,
	"data" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_entries_subject_id_seq_pk" PRIMARY KEY("subject_id","seq")
);
--> statement-breakpoint
CREATE TABLE "audit_heads" (
	"subject_id" uuid PRIMARY KEY NOT NULL,
	"subject_kind" text NOT NULL,
	"length" integer NOT NULL,
	"hash" text NOT NULL
);
