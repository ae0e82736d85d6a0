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
from collections.abc import Callable

from mosis.core import redis as redis_adapter
from store.catalog.services.cache import GENERATION_LOOKUP_LUA, PREFIX, generation_keys

SEEN_TTL = 2 * 86_400 + 3_600  # a dedupe marker only has to outlive its UTC day
DAY_HASH_TTL = 4 * 86_400  # the rollup (every 5 minutes) reads the last OPEN_DAYS days
OPEN_DAYS = 3  # today, yesterday (downloads that straddled midnight) and one more for a rollup outage

# Counting one download: the client's dedupe marker for the version and day, SET NX; on first sight one more
# distinct client in the day's hash. Shared by the three scripts below.
COUNT_DOWNLOAD_LUA = """
local function count_download(seen_key, seen_ttl, day_key, field, day_ttl)
  if redis.call('SET', seen_key, '1', 'NX', 'EX', seen_ttl) then
    redis.call('HINCRBY', day_key, field, 1)
    redis.call('EXPIRE', day_key, day_ttl)
    return 1
  end
  return 0
end
"""

# KEYS = generation keys..., the day hash; ARGV = [target key base, fresh generation, seen-key prefix,
# client hash, seen TTL, hash TTL]. Reads the generations (creating missing ones like the store cache's
# lookup), GETs the target and, when found, counts the download. Returns {generations, target or nil}.
_RESOLVE = redis_adapter.Script(
    GENERATION_LOOKUP_LUA
    + COUNT_DOWNLOAD_LUA
    + """
local n = #KEYS - 1
local gens, value = generation_lookup(n, ARGV[2], ARGV[1])
if value then
  local vid, aid = string.match(value, '^%["([%x%-]+)","([%x%-]+)",')
  if vid then
    count_download(ARGV[3] .. vid .. ':' .. ARGV[4], ARGV[5], KEYS[n + 1], vid .. ':' .. aid, ARGV[6])
  end
end
return {gens, value}
"""
)

# KEYS = [target key, dedupe marker, day hash]; ARGV = [encoded target, its TTL (0: do not store), field,
# seen TTL, hash TTL]. A cold download's second and last round trip: store the target, count the download.
_STORE_AND_COUNT = redis_adapter.Script(
    COUNT_DOWNLOAD_LUA
    + """
if ARGV[2] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
count_download(KEYS[2], ARGV[4], KEYS[3], ARGV[3], ARGV[5])
"""
)

# KEYS = [dedupe marker, day hash]; ARGV = [field, seen TTL, hash TTL]. Returns 1 when counted.
_COUNT = redis_adapter.Script(
    COUNT_DOWNLOAD_LUA + "return count_download(KEYS[1], ARGV[2], KEYS[2], ARGV[1], ARGV[3])\n"
)


def day_key(day: dt.date) -> str:
    return redis_adapter.key(f"{PREFIX}:dl:day:{day.isoformat()}")


def _seen_prefix(day: dt.date) -> str:
    return redis_adapter.key(f"{PREFIX}:dl:seen:{day.isoformat()}") + ":"


def _target_base(package_id: str, selector: tuple) -> str:
    return redis_adapter.key(f"{PREFIX}:dl:t:{package_id}:" + ":".join(map(str, selector)))


def encode_row(row: list) -> bytes:
    """A target's row (``[pk, app_id, ...]``, ``DownloadTarget.row()``) as compact JSON: the Lua script reads
    both ids from its head, and JSON is cheaper to load than a pickle."""
    return json.dumps([str(row[0]), str(row[1]), *row[2:]], separators=(",", ":")).encode()


def resolve_and_count(
    *,
    package_id: str,
    selector: tuple,
    build: Callable[[], list],
    client_hash: str,
    day: dt.date,
    ttl: int,
) -> list:
    """The cached target's row (ids as strings), counted for ``client_hash`` on ``day``: one round trip when
    warm.

    On a miss ``build()`` (the target's row; raising caches and counts nothing) is stored for ``ttl``
    seconds (0: not stored) and the download counted by one more script call (one round trip: a pipeline
    holding a script would first ask Redis ``SCRIPT EXISTS``, one round trip more).
    """
    gen_keys = [redis_adapter.key(k) for k in generation_keys(package_id)]
    base = _target_base(package_id, selector)
    hash_key = day_key(day)
    gens, raw = _RESOLVE(
        keys=[*gen_keys, hash_key],
        args=[base, str(time.time_ns()), _seen_prefix(day), client_hash, SEEN_TTL, DAY_HASH_TTL],
    )
    if raw is not None:
        return json.loads(raw)
    row = build()
    key = base + ":" + ":".join(redis_adapter.as_text(g) for g in gens)
    _STORE_AND_COUNT(
        keys=[key, f"{_seen_prefix(day)}{row[0]}:{client_hash}", hash_key],
        args=[encode_row(row), max(ttl, 0), f"{row[0]}:{row[1]}", SEEN_TTL, DAY_HASH_TTL],
    )
    return row


def count(*, version_id, app_id, client_hash: str, day: dt.date) -> None:
    """Count one download (no-op when this client already downloaded this version on ``day``)."""
    _COUNT(
        keys=[f"{_seen_prefix(day)}{version_id}:{client_hash}", day_key(day)],
        args=[f"{version_id}:{app_id}", SEEN_TTL, DAY_HASH_TTL],
    )


def day_counts(days) -> dict[tuple[uuid.UUID, uuid.UUID, dt.date], int]:
    """``{(version_id, app_id, day): distinct clients}`` from the day hashes of ``days`` (one round trip)."""
    days = list(days)
    pipe = redis_adapter.client().pipeline(transaction=False)
    for day in days:
        pipe.hgetall(day_key(day))
    counts = {}
    for day, fields in zip(days, pipe.execute(), strict=True):
        for field, value in fields.items():
            version_id, _, app_id = redis_adapter.as_text(field).partition(":")
            counts[(uuid.UUID(version_id), uuid.UUID(app_id), day)] = int(value)
    return counts
