"""Counting downloads in Redis (production, when the default cache is Redis): the warm path in one round trip.

Keys (all under the cache's ``KEY_PREFIX``, so ``cache.clear()`` drops them):

- ``store:v1:dl:t:<package_id>:<selector>:<generations>`` — the ``DownloadTarget`` a request resolves to, as a
  compact JSON list (``[pk, app_id, ...]``; cheaper to load than a pickle), stored under the package's store
  generations exactly like ``store_cache_value`` entries, so any catalog change makes it unreachable at once;
- ``store:v1:dl:seen:<day>:<version_id>:<client_hash>`` — the dedupe marker, ``SET NX EX`` (~2 days);
- ``store:v1:dl:day:<day>`` — a hash per UTC day, field ``"<version_id>:<app_id>"`` = the absolute number
  of distinct clients that downloaded that version that day, ``HINCRBY`` on first sight, kept a few days.

The only shared write per download is ``HINCRBY`` of one hash field (atomic, O(1), done only on a client's
first download of the day): no lock, no read-modify-write, so concurrent downloads never serialize. The
rollup (``downloads.downloads_rollup``) reads the hashes of the days still open and upserts
``DownloadDaily`` with ``count = GREATEST(stored, redis)``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

from .cache import PREFIX, _gen_keys, run_script

SEEN_TTL = 2 * 86_400 + 3_600  # a dedupe marker only has to outlive its UTC day
DAY_HASH_TTL = 4 * 86_400  # the rollup (every 5 minutes) reads the last OPEN_DAYS days
OPEN_DAYS = 3  # today, yesterday (downloads that straddled midnight) and one more for a rollup outage

# KEYS = generation keys..., the day hash; ARGV = [target key base, fresh generation, seen-key prefix,
# client hash, seen TTL, hash TTL]. Reads the generations (creating missing ones like _LOOKUP), GETs the
# target and, when found, counts the download: SET NX the dedupe marker, on first sight HINCRBY the day.
# Returns {generations, target or nil}.
_RESOLVE = """
local n = #KEYS - 1
local gens = redis.call('MGET', unpack(KEYS, 1, n))
for i = 1, n do
  if not gens[i] then
    redis.call('SET', KEYS[i], ARGV[2])
    gens[i] = ARGV[2]
  end
end
local value = redis.call('GET', ARGV[1] .. ':' .. table.concat(gens, ':'))
if value then
  local vid, aid = string.match(value, '^%["([%x%-]+)","([%x%-]+)",')
  if vid and redis.call('SET', ARGV[3] .. vid .. ':' .. ARGV[4], '1', 'NX', 'EX', ARGV[5]) then
    redis.call('HINCRBY', KEYS[n + 1], vid .. ':' .. aid, 1)
    redis.call('EXPIRE', KEYS[n + 1], ARGV[6])
  end
end
return {gens, value}
"""

# KEYS = [target key, dedupe marker, day hash]; ARGV = [encoded target, its TTL (0: do not store), field,
# seen TTL, hash TTL]. A cold download's second and last round trip: store the target, count the download.
_STORE_AND_COUNT = """
if ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then
  redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[5])
end
"""

# KEYS = [dedupe marker, day hash]; ARGV = [field, seen TTL, hash TTL]. Returns 1 when counted.
_COUNT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return 1
end
return 0
"""


def _client(backend):
    return backend._cache.get_client(write=True)


def day_key(backend, day: dt.date) -> str:
    return backend.make_key(f"{PREFIX}:dl:day:{day.isoformat()}")


def _seen_prefix(backend, day: dt.date) -> str:
    return backend.make_key(f"{PREFIX}:dl:seen:{day.isoformat()}") + ":"


def _target_base(backend, package_id: str, selector: tuple) -> str:
    return backend.make_key(f"{PREFIX}:dl:t:{package_id}:" + ":".join(map(str, selector)))


def encode_target(target) -> bytes:
    """``["<pk>", "<app_id>", ...]`` as compact JSON: the Lua script reads both ids from its head."""
    return json.dumps(
        [
            str(target.pk),
            str(target.app_id),
            target.package_id,
            target.version_name,
            target.version_code,
            target.package_key,
            target.package_size,
            target.sha256,
            target.signature,
            target.signing_key_fingerprint,
        ],
        separators=(",", ":"),
    ).encode()


def decode_target(raw: bytes):
    from .downloads import DownloadTarget

    pk, app_id, *rest = json.loads(raw)
    return DownloadTarget(uuid.UUID(pk), uuid.UUID(app_id), *rest)


def resolve_and_count(
    backend, *, package_id: str, selector: tuple, build, client_hash: str, day: dt.date, ttl: int
):
    """The cached target, counted for ``client_hash`` on ``day``: one round trip when warm.

    On a miss ``build()`` (a ``DownloadTarget``; raising caches and counts nothing) is stored for ``ttl``
    seconds (0: not stored) and the download counted by one more script call (one round trip: a pipeline
    holding a script would first ask Redis ``SCRIPT EXISTS``, one round trip more).
    """
    gen_keys = [backend.make_key(k) for k in _gen_keys(package_id)]
    base = _target_base(backend, package_id, selector)
    hash_key = day_key(backend, day)
    gens, raw = run_script(
        backend,
        _RESOLVE,
        keys=[*gen_keys, hash_key],
        args=[base, str(time.time_ns()), _seen_prefix(backend, day), client_hash, SEEN_TTL, DAY_HASH_TTL],
    )
    if raw is not None:
        return decode_target(raw)
    target = build()
    key = base + ":" + ":".join(g.decode() if isinstance(g, bytes) else str(g) for g in gens)
    run_script(
        backend,
        _STORE_AND_COUNT,
        keys=[key, f"{_seen_prefix(backend, day)}{target.pk}:{client_hash}", hash_key],
        args=[
            encode_target(target),
            max(ttl, 0),
            f"{target.pk}:{target.app_id}",
            SEEN_TTL,
            DAY_HASH_TTL,
        ],
    )
    return target


def count(backend, *, version_id, app_id, client_hash: str, day: dt.date) -> None:
    """Count one download (no-op when this client already downloaded this version on ``day``)."""
    run_script(
        backend,
        _COUNT,
        keys=[f"{_seen_prefix(backend, day)}{version_id}:{client_hash}", day_key(backend, day)],
        args=[f"{version_id}:{app_id}", SEEN_TTL, DAY_HASH_TTL],
    )


def day_counts(backend, days) -> dict[tuple[uuid.UUID, uuid.UUID, dt.date], int]:
    """``{(version_id, app_id, day): distinct clients}`` from the day hashes of ``days`` (one round trip)."""
    days = list(days)
    pipe = _client(backend).pipeline(transaction=False)
    for day in days:
        pipe.hgetall(day_key(backend, day))
    counts = {}
    for day, fields in zip(days, pipe.execute(), strict=True):
        for field, value in fields.items():
            version_id, _, app_id = (field.decode() if isinstance(field, bytes) else field).partition(":")
            counts[(uuid.UUID(version_id), uuid.UUID(app_id), day)] = int(value)
    return counts
