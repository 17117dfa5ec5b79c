"""Teacher output cache: the store (:mod:`g2m.cache.teacher_cache`) and its keys and lookups
(:mod:`g2m.cache.keys`)."""

from g2m._lazy import lazy_exports

__all__ = [
    "CacheKey",
    "CachedTeacher",
    "TeacherCache",
    "cache_entries",
    "config_tag",
    "find_node_teacher",
    "link_teacher_cache_key",
    "load_cached_teacher",
    "locate_node_teacher",
    "read_meta",
    "teacher_cache_key",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CacheKey": "g2m.cache.teacher_cache",
        "CachedTeacher": "g2m.cache.teacher_cache",
        "TeacherCache": "g2m.cache.teacher_cache",
        "load_cached_teacher": "g2m.cache.teacher_cache",
        "cache_entries": "g2m.cache.teacher_cache",
        "read_meta": "g2m.cache.teacher_cache",
        "config_tag": "g2m.cache.keys",
        "teacher_cache_key": "g2m.cache.keys",
        "link_teacher_cache_key": "g2m.cache.keys",
        "locate_node_teacher": "g2m.cache.keys",
        "find_node_teacher": "g2m.cache.keys",
    },
)
