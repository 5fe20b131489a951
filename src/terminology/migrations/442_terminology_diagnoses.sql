-- Code mapping, third part (issue #16): local diagnosis codes (Condition.code, HL7 DG1-3) that no
-- ConceptMap to ICD-10 knows are queued too, as kind 'diagnosis' (examples are Condition ids).
ALTER TABLE tm_unmapped DROP CONSTRAINT IF EXISTS tm_unmapped_kind_check;
ALTER TABLE tm_unmapped ADD CONSTRAINT tm_unmapped_kind_check CHECK (kind IN ('lab', 'specimen', 'unit', 'diagnosis'));
