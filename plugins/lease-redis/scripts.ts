/**
 * The lease operations as Lua scripts: Redis runs a script atomically, so the check ("the address is
 * free, expired, or already this MAC's" — `canTake` in core/dhcp/leases/store.ts) and the write are
 * one step even when several pxekit instances ask at the same moment.
 *
 * Keys: `<p>lease:ip:<ip>` a hash (ip, mac, state, expiresAt, subnet, clientId?, hostname?, updatedAt);
 * `<p>lease:mac:<mac>` the MAC's address. Both carry PEXPIREAT = expiresAt + retainMs: Redis itself
 * deletes old records (no sweeper), and an expired record stays readable for `retainMs` so a returning
 * client gets its old address back. Keys built inside a script (the MAC's old address) make these
 * scripts unfit for Redis Cluster; one Redis (with a replica / Sentinel) is the supported setup.
 */

/**
 * Shared by offer and commit. KEYS: ipKey, macKey. ARGV: ip, mac, state, expiresAt, subnet, clientId, hostname,
 * now, retainMs, ipPrefix, macPrefix.
 */
export const WRITE = `
local ipKey, macKey = KEYS[1], KEYS[2]
local ip, mac, state, expiresAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, retain = tonumber(ARGV[8]), tonumber(ARGV[9])
local ipPrefix, macPrefix = ARGV[10], ARGV[11]
local cur = redis.call('HMGET', ipKey, 'mac', 'state', 'expiresAt')
if cur[1] then
  local cmac, cstate, cexp = cur[1], cur[2], tonumber(cur[3])
  local mine = cmac == mac and cstate ~= 'declined'
  if not mine and cexp > now then return false end
  -- Re-offering a live bound lease keeps it bound and never shortens it.
  if state == 'offered' and mine and cstate == 'bound' and cexp > now then
    state = 'bound'
    if cexp > tonumber(expiresAt) then expiresAt = cur[3] end
  end
  if cmac ~= '' and cmac ~= mac and redis.call('GET', macPrefix .. cmac) == ip then
    redis.call('DEL', macPrefix .. cmac)
  end
end
-- One address per client: drop the MAC's record of another address.
local oldIp = redis.call('GET', macKey)
if oldIp and oldIp ~= ip and redis.call('HGET', ipPrefix .. oldIp, 'mac') == mac then
  redis.call('DEL', ipPrefix .. oldIp)
end
redis.call('DEL', ipKey)
redis.call('HSET', ipKey, 'ip', ip, 'mac', mac, 'state', state, 'expiresAt', expiresAt, 'subnet', ARGV[5], 'updatedAt', ARGV[8])
if ARGV[6] ~= '' then redis.call('HSET', ipKey, 'clientId', ARGV[6]) end
if ARGV[7] ~= '' then redis.call('HSET', ipKey, 'hostname', ARGV[7]) end
local keep = tonumber(expiresAt) + retain
redis.call('PEXPIREAT', ipKey, keep)
redis.call('SET', macKey, ip)
redis.call('PEXPIREAT', macKey, keep)
return redis.call('HGETALL', ipKey)
`;

/** KEYS: ipKey, macKey. ARGV: mac, now, retainMs. Returns 1 when released. */
export const RELEASE = `
local cur = redis.call('HMGET', KEYS[1], 'mac', 'state', 'expiresAt')
if not cur[1] or cur[1] ~= ARGV[1] or cur[2] == 'declined' then return 0 end
local now = tonumber(ARGV[2])
local exp = tonumber(cur[3])
local upto = ARGV[2]
if exp < now then upto = cur[3] end
redis.call('HSET', KEYS[1], 'state', 'released', 'expiresAt', upto, 'updatedAt', ARGV[2])
local keep = tonumber(upto) + tonumber(ARGV[3])
redis.call('PEXPIREAT', KEYS[1], keep)
if redis.call('GET', KEYS[2]) == redis.call('HGET', KEYS[1], 'ip') then redis.call('PEXPIREAT', KEYS[2], keep) end
return 1
`;

/** KEYS: ipKey. ARGV: ip, until, subnet, now, retainMs, macPrefix, notAfter (0 = always). Returns 1 when written. */
export const DECLINE = `
local cur = redis.call('HMGET', KEYS[1], 'mac', 'updatedAt')
-- A write-back after an outage must not overwrite a newer decision taken elsewhere meanwhile.
if ARGV[7] ~= '0' and cur[2] and tonumber(cur[2]) > tonumber(ARGV[7]) then return 0 end
if cur[1] and cur[1] ~= '' and redis.call('GET', ARGV[6] .. cur[1]) == ARGV[1] then
  redis.call('DEL', ARGV[6] .. cur[1])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'ip', ARGV[1], 'mac', '', 'state', 'declined', 'expiresAt', ARGV[2], 'subnet', ARGV[3], 'updatedAt', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[5]))
return 1
`;

/** KEYS: macKey. ARGV: mac, ipPrefix. The MAC's record (via its address), or nil. */
export const GET_BY_MAC = `
local ip = redis.call('GET', KEYS[1])
if not ip then return false end
local rec = redis.call('HGETALL', ARGV[2] .. ip)
if #rec == 0 or redis.call('HGET', ARGV[2] .. ip, 'mac') ~= ARGV[1] then return false end
return rec
`;

/**
 * "Next free" for `selectLease`: a shared cursor per pool so that instances allocating at the same
 * time walk the range at different places instead of colliding on the same first free address.
 * The proposal is remembered per MAC for a few seconds (KEYS[3]): two instances that both answer the
 * same DISCOVER propose the *same* address, so both offers are valid and the client may take either.
 * KEYS: cursorKey, macKey, proposalKey. ARGV: first (int), size, now, ipPrefix, probes, proposalMs.
 * Returns nil when the MAC already has a record (the core prefers its old address), else the first
 * address whose record is absent or expired within `probes` steps, or nil.
 */
export const NEXT_FREE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local proposed = redis.call('GET', KEYS[3])
if proposed then return proposed end
local first, size, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, tonumber(ARGV[5]) do
  local n = (redis.call('INCR', KEYS[1]) - 1) % size + first
  local ip = string.format('%d.%d.%d.%d', math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  local exp = redis.call('HGET', ARGV[4] .. ip, 'expiresAt')
  if not exp or tonumber(exp) <= now then
    redis.call('SET', KEYS[3], ip, 'PX', ARGV[6])
    return ip
  end
end
return false
`;
