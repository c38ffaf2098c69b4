CREATE TABLE "drizzle_authors" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	CONSTRAINT "drizzle_authors_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "drizzle_posts" (
	"id" serial PRIMARY KEY NOT NULL,
	"author_id" integer NOT NULL,
	"title" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "drizzle_posts" ADD CONSTRAINT "drizzle_posts_author_id_drizzle_authors_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."drizzle_authors"("id") ON DELETE no action ON UPDATE no action;