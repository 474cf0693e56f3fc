-- The scorecard's retrieval arm: BM25 over the project's document chunks (FTS5, external
-- content keyed by the chunks' rowid, kept by triggers like examples_fts).
CREATE VIRTUAL TABLE `chunks_fts` USING fts5(text, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
INSERT INTO `chunks_fts`(rowid, text) SELECT rowid, text FROM `chunks`;
--> statement-breakpoint
CREATE TRIGGER `chunks_ai` AFTER INSERT ON `chunks` BEGIN
  INSERT INTO `chunks_fts`(rowid, text) VALUES (new.rowid, new.text);
END;
--> statement-breakpoint
CREATE TRIGGER `chunks_ad` AFTER DELETE ON `chunks` BEGIN
  INSERT INTO `chunks_fts`(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
--> statement-breakpoint
CREATE TRIGGER `chunks_au` AFTER UPDATE OF text ON `chunks` BEGIN
  INSERT INTO `chunks_fts`(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
  INSERT INTO `chunks_fts`(rowid, text) VALUES (new.rowid, new.text);
END;
