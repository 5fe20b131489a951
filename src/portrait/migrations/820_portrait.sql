-- Street health portrait (issue #21 item 5): who lives where, by sex and birth date, kept from
-- the change log of Patient by the portrait-residents processor. It is the population behind
-- the portrait's denominators (population by sex and age band, cases per 100 000 and their
-- age-standardised rates); primary care keeps its own resident table and does not export one.

CREATE TABLE portrait_resident (
  patient_id text PRIMARY KEY,
  -- the home address's 12-digit 统计用区划代码, and its street (first 9 digits + '000')
  area_code text,
  street_code text,
  gender text,
  birth_date date,
  deceased boolean NOT NULL DEFAULT false
);

CREATE INDEX portrait_resident_street ON portrait_resident (street_code) WHERE NOT deceased;
