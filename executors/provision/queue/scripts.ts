/**
 * Lua scripts that keep the queue's invariants atomic in Redis: at most one active job per
 * host, a global cap on running jobs, FIFO claiming, and finishing only by the job's owner.
 * Job and worker keys are derived from the prefix inside the scripts; the prefix's hash tag
 * keeps them in the slot of the declared keys, so the scripts also run on a Redis Cluster.
 */

/**
 * KEYS host, seq, pending; ARGV prefix, spec, nowIso, expectedId → {1, id}, {0, existingId}
 * when the host is busy, or {2, nextId} when the next id is not `expectedId`. The spec is
 * sealed for its job's key, so the caller must know the id first: it seals for the `nextId`
 * this answers and calls again (an empty `expectedId` only asks). Ids stay gapless.
 */
export const ENQUEUE = `
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
local id = 'prov-' .. ((tonumber(redis.call('GET', KEYS[2])) or 0) + 1)
if id ~= ARGV[4] then return {2, id} end
redis.call('INCR', KEYS[2])
-- A fresh job never inherits fields (say a sealed outcome) of an older one with its id.
redis.call('DEL', ARGV[1] .. 'job:' .. id)
redis.call('HSET', ARGV[1] .. 'job:' .. id, 'id', id, 'spec', ARGV[2], 'state', 'pending',
  'attempts', 0, 'enqueuedAt', ARGV[3])
redis.call('SET', KEYS[1], id)
redis.call('RPUSH', KEYS[3], id)
return {1, id}
`;

/**
 * KEYS pending, delayed, running; ARGV prefix, cap, nowMs, workerId, nowIso
 * → {id, spec, attempts} or false. Promotes due retries first.
 */
export const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('RPUSH', KEYS[1], id)
  redis.call('HSET', ARGV[1] .. 'job:' .. id, 'state', 'pending')
end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return false end
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then return false end
  local job = ARGV[1] .. 'job:' .. id
  if redis.call('HGET', job, 'state') == 'pending' then
    redis.call('SADD', KEYS[3], id)
    local attempts = redis.call('HINCRBY', job, 'attempts', 1)
    redis.call('HSET', job, 'state', 'running', 'owner', ARGV[4], 'startedAt', ARGV[5])
    return {id, redis.call('HGET', job, 'spec'), attempts}
  end
end
`;

/**
 * KEYS running, host, delayed; ARGV prefix, id, workerId, state, outcome, nowIso, retryAtMs
 * ('' when final), retryAtIso, ttlSeconds → 1, or 0 when the job is no longer ours.
 */
export const FINISH = `
local job = ARGV[1] .. 'job:' .. ARGV[2]
if redis.call('HGET', job, 'owner') ~= ARGV[3] or redis.call('HGET', job, 'state') ~= 'running' then
  return 0
end
redis.call('SREM', KEYS[1], ARGV[2])
redis.call('HSET', job, 'outcome', ARGV[5], 'owner', '')
if ARGV[7] ~= '' then
  redis.call('HSET', job, 'state', 'retrying', 'nextAttemptAt', ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[2])
else
  redis.call('HSET', job, 'state', ARGV[4], 'finishedAt', ARGV[6])
  if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
  redis.call('EXPIRE', job, tonumber(ARGV[9]))
end
return 1
`;

/**
 * KEYS running, pending; ARGV prefix, selfWorkerId, onlyId ('' for all)
 * → ids put back at the head of the queue. A running job is taken back when its owner's
 * heartbeat key is gone (or, with onlyId, when it is ours and we give it back on shutdown).
 */
export const RECOVER = `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local job = ARGV[1] .. 'job:' .. id
  local owner = redis.call('HGET', job, 'owner') or ''
  local take
  if ARGV[3] ~= '' then
    take = (id == ARGV[3] and owner == ARGV[2])
  else
    take = owner ~= ARGV[2] and (owner == '' or redis.call('EXISTS', ARGV[1] .. 'worker:' .. owner) == 0)
  end
  if take then
    redis.call('SREM', KEYS[1], id)
    if redis.call('EXISTS', job) == 1 then
      redis.call('HSET', job, 'state', 'pending', 'owner', '')
      redis.call('HINCRBY', job, 'attempts', -1)
      redis.call('LPUSH', KEYS[2], id)
      table.insert(out, id)
    end
  end
end
return out
`;
