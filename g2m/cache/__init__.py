"""Teacher output cache."""

from g2m.cache.teacher_cache import CachedTeacher, CacheKey, TeacherCache, load_cached_teacher

__all__ = ["CacheKey", "CachedTeacher", "TeacherCache", "load_cached_teacher"]
