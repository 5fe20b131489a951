-- The encoding each upload was read in ('utf-8', 'gb18030', …): the one the sender named, else the
-- detected one. NULL when the bytes were not valid in any encoding (the upload is kept raw) and for
-- uploads stored before this column existed.
ALTER TABLE feed_upload ADD COLUMN encoding text;
