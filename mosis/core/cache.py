"""The Redis cache backend of production mode and of the test suite on Redis.

Django's ``RedisCache.clear()`` is ``FLUSHDB``: it would also wipe whatever else lives in that Redis
database (a Celery broker on the same instance, another deployment, a parallel test process). This backend
clears only the keys under its own ``KEY_PREFIX``.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

CLEAR_BATCH = 1000


class RedisCache(DjangoRedisCache):
    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        batch = []
        for key in client.scan_iter(match=f"{self.key_prefix}:*", count=CLEAR_BATCH):
            batch.append(key)
            if len(batch) >= CLEAR_BATCH:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)
        return True
