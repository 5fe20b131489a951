-- Master data registry (机构与地点): lookup tables kept as the registry writes its FHIR
-- Organization and Location resources (same transaction), so maps and feeds read by key.
CREATE TABLE registry_area (
  code text PRIMARY KEY,
  gb2260 text NOT NULL,
  name text NOT NULL,
  level text NOT NULL,
  parent_code text,
  resource_id text NOT NULL UNIQUE,
  centroid jsonb,
  boundary jsonb,
  hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX registry_area_parent ON registry_area (parent_code, code);
CREATE INDEX registry_area_level ON registry_area (level, code);

-- Organizations and places share one code space: a code names one thing.
CREATE TABLE registry_site (
  code text PRIMARY KEY,
  category text NOT NULL CHECK (category IN ('organization', 'place')),
  type text NOT NULL,
  name text NOT NULL,
  area_code text,
  street_code text,
  parent_code text,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  position jsonb,
  details jsonb NOT NULL DEFAULT '{}',
  hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX registry_site_resource ON registry_site (resource_type, resource_id);
CREATE INDEX registry_site_list ON registry_site (category, type, code);
CREATE INDEX registry_site_area ON registry_site (category, area_code text_pattern_ops);

CREATE TABLE registry_import (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  file_name text,
  kind text NOT NULL,
  format text,
  encoding text,
  stored boolean NOT NULL,
  created integer NOT NULL DEFAULT 0,
  updated integer NOT NULL DEFAULT 0,
  unchanged integer NOT NULL DEFAULT 0,
  refused integer NOT NULL DEFAULT 0,
  report jsonb NOT NULL,
  username text
);
