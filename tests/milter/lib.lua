-- lib.lua - what the miltertest scripts share: connect to the crierd under
-- test (its socket in the environment), and send a whole .eml file through
-- the milter protocol as Postfix would.
M = {}

-- connect: crierd negotiates away CONNECT and HELO (it has no use for them)
function M.connect()
    local sock = os.getenv("CRIER_MILTER")
    local conn = mt.connect(sock, 40, 0.25)
    assert(conn, "cannot connect to " .. tostring(sock))
    return conn
end

-- read a file; split its headers (unfolded) from its body
local function split(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()
    text = text:gsub("\r\n", "\n")
    local head, body = text:match("^(.-)\n\n(.*)$")
    if head == nil then head, body = text, "" end
    local headers = {}
    for line in (head .. "\n"):gmatch("(.-)\n") do
        if line:match("^[ \t]") and #headers > 0 then
            headers[#headers][2] = headers[#headers][2] .. "\n" .. line
        else
            local name, value = line:match("^([^:]+):[ \t]?(.*)$")
            if name then table.insert(headers, {name, value}) end
        end
    end
    return headers, body:gsub("\n", "\r\n")
end

-- the submitter macros crierd asks for at RCPT, as smtpd sends them for
-- a client (default: the portal, 192.0.2.10, in events.sh's
-- submit_networks) or, with client "local", as cleanup makes them up for
-- sendmail: localhost, 127.0.0.1, port 0
function M.rcpt_macros(conn, qid, from, client)
    local addr, name, port = client or "192.0.2.10", "portal.studio.test", "41000"
    if client == "local" then addr, name, port = "127.0.0.1", "localhost", "0" end
    mt.macro(conn, SMFIC_RCPT, "i", qid or "TESTQID", "{client_addr}", addr,
             "{client_name}", name, "{client_port}", port, "{mail_addr}", from,
             "{daemon_name}", "mx.crier.test")
end

-- send: RCPT(s), DATA, headers, body, EOM; returns the EOM reply. crierd
-- negotiates away MAIL (and replies to headers and body), so the queue id
-- and the submitter ride with the recipients.
function M.send(conn, path, from, rcpts, qid, client)
    M.rcpt_macros(conn, qid, from, client)
    for _, r in ipairs(rcpts) do
        assert(mt.rcptto(conn, r) == nil, "rcptto " .. r)
        assert(mt.getreply(conn) == SMFIR_CONTINUE, "rcptto " .. r .. ": not continued")
    end
    assert(mt.data(conn) == nil, "data")
    if mt.getreply(conn) == SMFIR_ACCEPT then return SMFIR_ACCEPT end
    local headers, body = split(path)
    for _, h in ipairs(headers) do
        assert(mt.header(conn, h[1], h[2]) == nil, "header " .. h[1])
    end
    assert(mt.eoh(conn) == nil, "eoh")
    if #body > 0 then assert(mt.bodystring(conn, body) == nil, "body") end
    assert(mt.eom(conn) == nil, "eom")
    return mt.getreply(conn)
end

-- run: the test body under pcall, so that a Lua error says what it was
function M.run(name, fn)
    local ok, err = pcall(fn)
    if not ok then
        print("FAIL: " .. name .. ": " .. tostring(err))
        os.exit(1)
    end
    print("ok: " .. name)
    os.exit(0)
end

return M
