-- wrk script for the soak: 4 reads of the exam list for every write of a
-- sensor reading, all with the member's bearer token (given with -H; a
-- headers table passed to wrk.format replaces wrk.headers, so copy them).
local n = 0
request = function()
  n = n + 1
  if n % 5 == 0 then
    local day = string.format("2025-%02d-%02d", math.floor(n / 28) % 12 + 1, n % 28 + 1)
    local body = '{"kind":"steps","date":"' .. day .. '","value":' .. (3000 + n % 9000) .. '}'
    local h = {}
    for k, v in pairs(wrk.headers) do h[k] = v end
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/me/sensors", h, body)
  end
  return wrk.format("GET", "/api/me/exams")
end
