-- Mass testing (大规模核酸检测, issue #20, item 5): campaigns, the people registered for one (a
-- list, or one QR code per person), pools (a pool tube is a lab_specimen going through the loop)
-- and their members; a positive pool gives each member an individual re-test order.
CREATE TABLE lab_mass_campaign (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  test_code text NOT NULL,
  mode text NOT NULL,
  ordering_unit text NOT NULL,
  order_id text NOT NULL REFERENCES lab_order (id),   -- the order pool tubes are collected under
  pool_size integer NOT NULL CHECK (pool_size BETWEEN 1 AND 50),
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);

CREATE TABLE lab_mass_person (
  id bigserial PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES lab_mass_campaign (id),
  code text NOT NULL,                       -- the person's QR code or barcode
  name text NOT NULL,
  id_number text,
  phone text,
  area_code text NOT NULL,
  patient_id text,                          -- set at registration when known, or when a re-test needs one
  registered_at timestamptz NOT NULL,
  registered_by text NOT NULL,
  UNIQUE (campaign_id, code)
);
CREATE INDEX lab_mass_person_area ON lab_mass_person (campaign_id, area_code);

CREATE TABLE lab_pool (
  specimen_id text PRIMARY KEY REFERENCES lab_specimen (id),
  campaign_id bigint NOT NULL REFERENCES lab_mass_campaign (id),
  outcome text CHECK (outcome IN ('negative', 'positive', 'indeterminate')),
  outcome_at timestamptz
);
CREATE INDEX lab_pool_campaign ON lab_pool (campaign_id);

CREATE TABLE lab_pool_member (
  id bigserial PRIMARY KEY,
  pool_specimen_id text NOT NULL REFERENCES lab_pool (specimen_id),
  campaign_id bigint NOT NULL,
  person_id bigint NOT NULL REFERENCES lab_mass_person (id),
  tube_barcode text UNIQUE,                 -- the member's own tube, when there is one
  state text NOT NULL CHECK (state IN ('pooled', 'negative', 'retest')),
  retest_order_id text REFERENCES lab_order (id),
  retest_result text,                       -- the individual re-test's verified interpretation (or value)
  retest_at timestamptz,
  added_at timestamptz NOT NULL,
  UNIQUE (campaign_id, person_id)           -- one pool per person in a campaign
);
CREATE INDEX lab_pool_member_pool ON lab_pool_member (pool_specimen_id);
CREATE INDEX lab_pool_member_retest ON lab_pool_member (retest_order_id) WHERE retest_order_id IS NOT NULL;
