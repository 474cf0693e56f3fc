/** Column helpers every table uses. Timestamps are integer milliseconds since the epoch (ISO strings at the API boundary). */
import { sql } from "drizzle-orm";
import { integer } from "drizzle-orm/sqlite-core";

export const createdAt = () => integer("created_at").notNull().default(sql`(unixepoch('subsec') * 1000)`);
