-- Weak evidence: a detector verdict below its alarm threshold whose p is still small (kept in
-- surv_detection with alarm = false); fusion's joint rule may open an alert with it, and the
-- alert's evidence then says which rows were weak.
ALTER TABLE surv_alert_evidence ADD COLUMN weak boolean NOT NULL DEFAULT false;
CREATE INDEX surv_detection_day ON surv_detection (day);
