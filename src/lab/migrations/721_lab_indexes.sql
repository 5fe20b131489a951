-- The specimens a shipment carried (counted from its scan-out events) and the newest-first list
-- of specimens, each read through an index rather than a scan of the whole table.
CREATE INDEX lab_event_shipment ON lab_event (shipment_id) WHERE shipment_id IS NOT NULL;
CREATE INDEX lab_specimen_updated ON lab_specimen (updated_at DESC, id);
