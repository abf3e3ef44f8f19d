namespace VmDebug.Engine.PageFilter;

/// <summary>makedumpfile's exclusion classes decided from struct page.</summary>
public enum PageClass
{
    Kept,
    CacheClean,
    CachePrivate,
    User,
    Free,
    Poisoned,
    Offline,
}
