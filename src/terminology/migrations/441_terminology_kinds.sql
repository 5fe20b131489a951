-- Code mapping, second part (issue #16): the unmapped queue also holds specimen types (Specimen.type,
-- SPM-4 or OBR-15) and units (Observation.valueQuantity without the UCUM system), each in its own
-- kind; the key (kind, facility, system, code) already keeps them apart.
ALTER TABLE tm_unmapped DROP CONSTRAINT IF EXISTS tm_unmapped_kind_check;
ALTER TABLE tm_unmapped ADD CONSTRAINT tm_unmapped_kind_check CHECK (kind IN ('lab', 'specimen', 'unit'));
