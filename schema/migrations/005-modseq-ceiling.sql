-- 005: writes that hand out no UID commit without an fsync (src/uidmap/sqlite.ts "Durability"). ceiling: every
-- mod-sequence issued in the mailbox is at most this durable value; after an OS restart (boot_id differs) `highest`
-- jumps to it, so a mod-sequence lost with an unsynced write is never issued again for another change.
ALTER TABLE mailbox_modseq ADD COLUMN ceiling INTEGER NOT NULL DEFAULT 0;
ALTER TABLE store_meta ADD COLUMN boot_id TEXT;
