-- The trace and request a notification message belongs to (issue 7 §4): its deliveries' log
-- lines and spans join the trace of the request whose change it tells the supplier about.
ALTER TABLE notification_messages
    ADD COLUMN traceparent text CHECK (char_length(traceparent) <= 64),
    ADD COLUMN request_id  text CHECK (char_length(request_id) <= 128);
