"""Teacher output cache."""

from g2m._lazy import lazy_exports

__all__ = ["CacheKey", "CachedTeacher", "TeacherCache", "cache_entries", "load_cached_teacher", "read_meta"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CacheKey": "g2m.cache.teacher_cache",
        "CachedTeacher": "g2m.cache.teacher_cache",
        "TeacherCache": "g2m.cache.teacher_cache",
        "load_cached_teacher": "g2m.cache.teacher_cache",
        "cache_entries": "g2m.cache.teacher_cache",
        "read_meta": "g2m.cache.teacher_cache",
    },
)
