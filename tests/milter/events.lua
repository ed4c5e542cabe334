-- events.lua - the milter on event mail: a good event is consumed (the
-- message discarded), a malformed one refused at end of data with the
-- reason, a request kept, mail to nobody of crier's let go at DATA
-- untouched; an event from a submitter crier.conf does not allow is
-- refused at RCPT (from smtpd) or at DATA (a local submission), and one
-- from a listed local user accepted.
package.path = os.getenv("CRIER_SRCDIR") .. "/tests/milter/?.lua;" .. package.path
local T = require("lib")
local ev = os.getenv("CRIER_SRCDIR") .. "/tests/events/"

T.run("events.lua", function()
    local conn = T.connect()

    -- not for crier: accepted as soon as the recipients are known
    local r = T.send(conn, ev .. "redelivery-juice.eml", "<someone@partner.test>",
                     {"<ana@juicepost.example>"}, "Q1")
    assert(r == SMFIR_ACCEPT, "plain mail: expected ACCEPT, got " .. tostring(r))

    -- a good event: stored, the event mail itself discarded
    r = T.send(conn, ev .. "redelivery-juice.eml", "<portal@studio.example>",
               {"<events@crier.test>"}, "Q2")
    assert(r == SMFIR_DISCARD, "good event: expected DISCARD, got " .. tostring(r))

    -- the same Event-Id again: accepted, nothing new (checked by the caller)
    r = T.send(conn, ev .. "redelivery-juice.eml", "<portal@studio.example>",
               {"<events@crier.test>"}, "Q3")
    assert(r == SMFIR_DISCARD, "duplicate event: expected DISCARD, got " .. tostring(r))

    -- an event with another recipient too: crier's recipient removed, mail goes on
    r = T.send(conn, ev .. "at-risk-base64.eml", "<portal@studio.example>",
               {"<events@crier.test>", "<audit@studio.test>"}, "Q4")
    assert(r == SMFIR_ACCEPT, "event + other: expected ACCEPT, got " .. tostring(r))
    assert(mt.eom_check(conn, MT_RCPTDELETE, "<events@crier.test>"), "events rcpt not removed")

    -- a mail to the request address: kept for self-service, not delivered
    r = T.send(conn, ev .. "redelivery-juice.eml", "<ana@juicepost.example>",
               {"<crier-request@crier.test>"}, "Q5")
    assert(r == SMFIR_DISCARD, "request: expected DISCARD, got " .. tostring(r))

    -- a client outside submit_networks: the events address refused at RCPT
    T.rcpt_macros(conn, "QR1", "<mallory@evil.test>", "198.51.100.7")
    assert(mt.rcptto(conn, "<events@crier.test>") == nil, "rcptto")
    r = mt.getreply(conn)
    assert(r == SMFIR_REPLYCODE, "disallowed client: expected a reply code at RCPT, got " .. tostring(r))
    mt.abort(conn)

    -- a local submission (sendmail): its user is its sender's local part
    T.rcpt_macros(conn, "QR2", "<nobody@crier.test>", "local")
    assert(mt.rcptto(conn, "<events@crier.test>") == nil, "rcptto")
    assert(mt.getreply(conn) == SMFIR_CONTINUE, "local: RCPT not continued")
    assert(mt.data(conn) == nil, "data")
    r = mt.getreply(conn)
    assert(r == SMFIR_REPLYCODE, "local user not listed: expected a reply code at DATA, got " .. tostring(r))
    mt.abort(conn)
    r = T.send(conn, ev .. "redelivery-juice.eml", "<daemon@crier.test>",
               {"<events@crier.test>"}, "QL1", "local")
    assert(r == SMFIR_DISCARD, "listed local user: expected DISCARD, got " .. tostring(r))

    -- malformed events: 550 with the reason
    local bad = {
        {"no-event-id.eml", "5.6.0", "event refused: the event has no Event-Id field"},
        {"unknown-event-type.eml", "5.6.0", "event refused: unknown event type " ..
         "\"source_request_archived\" (the catalog offers: due_date_changed, qc_failed, " ..
         "redelivery_requested, source_delivered, source_processed, source_request_assigned, " ..
         "source_request_at_risk, source_request_cancelled, source_request_created)"},
        {"html-only.eml", "5.6.0", "event refused: the event mail has no text/plain part"},
        {"not-a-field.eml", "5.6.0", "event refused: line 6 of the event is not a 'Name: value' field"},
    }
    for i, b in ipairs(bad) do
        r = T.send(conn, ev .. "bad/" .. b[1], "<portal@studio.example>",
                   {"<events@crier.test>"}, "QB" .. i)
        assert(r == SMFIR_REPLYCODE, b[1] .. ": expected a reply code, got " .. tostring(r))
        -- (this miltertest matches a reply only with all three parts given)
        assert(mt.eom_check(conn, MT_SMTPREPLY, "550", b[2], b[3]),
               b[1] .. ": not 550 " .. b[2] .. " " .. b[3])
    end
    mt.disconnect(conn)
end)
