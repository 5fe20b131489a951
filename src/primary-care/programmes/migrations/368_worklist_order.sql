-- The worklist (store.ts worklistPage) reads its first page as an ordered walk, not a sort of every
-- item listed: the open items in the list's order (window end, resident, item, then episode and
-- window start to break ties); the next follow-ups apart (listed however long overdue, they would
-- otherwise be walked past every older open item; its total also reads which episodes have one,
-- as their yearly follow-ups give way to it); and delivered items by their day (those delivered
-- after the day asked are listed as still due on it: none on today unless a record is dated
-- ahead). The open index replaces migration 360's (programme, window_to), which it covers.
DROP INDEX prog_item_open;
CREATE INDEX prog_item_open ON prog_item (programme, window_to, patient_id, item, episode_key, window_from) WHERE delivered_on IS NULL;
CREATE INDEX prog_item_next ON prog_item (programme, window_to, patient_id, episode_key, window_from) INCLUDE (delivered_on)
  WHERE item = 'next-follow-up';
CREATE INDEX prog_item_delivered ON prog_item (programme, delivered_on) WHERE delivered_on IS NOT NULL;
-- The total counts every listed item less those of deceased residents: the few deceased, by index.
CREATE INDEX prog_person_deceased ON prog_person (patient_id) WHERE deceased;
