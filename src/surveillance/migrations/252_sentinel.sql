-- Sentinel sites' daily syndrome counts as the signals see them (one row per site, syndrome and
-- day; a resent day replaces the figure and moves the counts by the difference). Each site is its
-- own series: signal 'sentinel:<syndrome>:<site code>', so its baseline is its own history.
CREATE TABLE surv_feed_sentinel (
  site text NOT NULL,
  syndrome text NOT NULL,
  day date NOT NULL,
  area_code text NOT NULL DEFAULT '',
  cases integer NOT NULL,
  PRIMARY KEY (site, syndrome, day)
);
