-- bad-rules.lua - one event (the file in CRIER_EVENT) to events@crier.test;
-- it must be accepted (the milter discards the consumed event mail).
package.path = os.getenv("CRIER_SRCDIR") .. "/tests/milter/?.lua;" .. package.path
local T = require("lib")

T.run("bad-rules.lua", function()
    local conn = T.connect()
    local r = T.send(conn, os.getenv("CRIER_EVENT"), "<portal@studio.example>",
                     {"<events@crier.test>"}, os.getenv("CRIER_QID"))
    assert(r == SMFIR_DISCARD, "event: expected DISCARD, got " .. tostring(r))
    mt.disconnect(conn)
end)
