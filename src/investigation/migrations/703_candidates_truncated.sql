-- Whether the last computation of an investigation's contact candidates met the co-stay row limit
-- (store.ts CO_STAY_ROW_LIMIT): the candidates list says so on screen instead of looking complete.
ALTER TABLE inv_investigation ADD COLUMN candidates_truncated boolean NOT NULL DEFAULT false;
