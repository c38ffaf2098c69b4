// drizzle-orm's schema for the clients suite: the tables drizzle-kit's migration creates
// (migrations/, made from this file with `drizzle-kit generate`).
import { pgTable, serial, text, integer, timestamp } from 'drizzle-orm/pg-core';

export const authors = pgTable('drizzle_authors', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
});

export const posts = pgTable('drizzle_posts', {
  id: serial('id').primaryKey(),
  authorId: integer('author_id').notNull().references(() => authors.id),
  title: text('title').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
