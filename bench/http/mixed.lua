-- wrk script for the soak: 4 reads of the exam list for every write of a
-- sensor reading, all with the member's bearer token.
local n = 0
request = function()
  n = n + 1
  if n % 5 == 0 then
    local day = string.format("2025-%02d-%02d", (n // 28) % 12 + 1, n % 28 + 1)
    local body = '{"kind":"steps","date":"' .. day .. '","value":' .. (3000 + n % 9000) .. '}'
    return wrk.format("POST", "/api/me/sensors", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/me/exams")
end
