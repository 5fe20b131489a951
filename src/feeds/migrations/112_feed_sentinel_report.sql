-- 哨点日报: a sentinel site's daily count of one syndrome (fever, respiratory, diarrhoea); a row with
-- cases = 0 is the site's zero report (零报告), so "reported nothing" and "did not report" differ.
CREATE TABLE feed_sentinel_report (
  site_code text NOT NULL,
  site_name text NOT NULL,
  date date NOT NULL,
  syndrome text NOT NULL CHECK (syndrome IN ('fever', 'respiratory', 'diarrhoea')),
  cases integer NOT NULL CHECK (cases >= 0),
  upload_id bigint NOT NULL REFERENCES feed_upload (id),
  PRIMARY KEY (site_code, date, syndrome)
);
-- Who reported on a day (the missing-reports list reads one day for a page of sites).
CREATE INDEX feed_sentinel_report_date ON feed_sentinel_report (date, site_code);
CREATE INDEX feed_sentinel_report_upload ON feed_sentinel_report (upload_id);
