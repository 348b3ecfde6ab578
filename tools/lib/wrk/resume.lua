-- wrk script for tools/bench-sessions: session resumes, each refresh token presented once.
-- Each thread holds a pool of live refresh tokens (its share of the file ARBITER_REFRESH_TOKENS,
-- one a line, split over ARBITER_WRK_THREADS threads); a request takes one, a 200 answer puts
-- the rotated one back. With more tokens than connections per thread, no token is ever sent
-- twice (which would be reuse, revoking its family).
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

local pool = {}

function init(args)
    local threads = tonumber(os.getenv("ARBITER_WRK_THREADS"))
    local n = 0
    for line in io.lines(os.getenv("ARBITER_REFRESH_TOKENS")) do
        if n % threads == id then pool[#pool + 1] = line end
        n = n + 1
    end
end

function request()
    -- An empty pool (every token lost to failures) sends a token that fails, counted as non-2xx.
    local token = table.remove(pool) or "exhausted"
    return wrk.format("POST", "/v1/sessions/refresh", { ["Content-Type"] = "application/json" }, '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
    if status == 200 then
        local token = body:match('"refresh_token":"([^"]+)"')
        if token then pool[#pool + 1] = token end
    end
end
