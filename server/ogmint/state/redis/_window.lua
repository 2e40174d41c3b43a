-- The current UTC window from Redis' clock: its id and the Unix time it ends. Months use
-- H. Hinnant's civil-from-days / days-from-civil so the reset is 00:00 UTC on the next 1st.
local function window(kind)
  local days = math.floor(tonumber(redis.call('TIME')[1]) / 86400)
  if kind == 'day' then return tostring(days), (days + 1) * 86400 end
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524)
    - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local y = yoe + era * 400
  local m = mp + 3
  if mp >= 10 then m = mp - 9 end
  if m <= 2 then y = y + 1 end
  local id = tostring(y * 12 + m - 1)
  if m == 12 then y, m = y + 1, 1 else m = m + 1 end
  if m <= 2 then y = y - 1 end
  era = math.floor(y / 400)
  yoe = y - era * 400
  local mm = m - 3
  if m <= 2 then mm = m + 9 end
  doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + math.floor((153 * mm + 2) / 5)
  return id, (era * 146097 + doe - 719468) * 86400
end
