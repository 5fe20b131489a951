-- A message accepted although its bytes did not match MSH-18 (decoded in the facility's
-- configured character set instead) keeps the warning it was acknowledged with (ERR, severity W).
ALTER TABLE hl7_message ADD COLUMN charset_warning text;
