namespace VmDebug.Engine.Files;

/// <summary>What lstat/fstat say about a file: the fields the safety checks need.</summary>
internal readonly record struct UnixFileStatus(ulong Device, ulong Inode, uint Mode, uint Uid, uint Gid, long Size)
{
    public const uint TypeMask = 0xf000;
    public const uint Regular = 0x8000;
    public const uint Directory = 0x4000;
    public const uint Symlink = 0xa000;
    public const uint Fifo = 0x1000;
    public const uint CharDevice = 0x2000;
    public const uint BlockDevice = 0x6000;
    public const uint Socket = 0xc000;

    public uint Type => Mode & TypeMask;
    public uint Permissions => Mode & 0xfff;
    public bool IsRegular => Type == Regular;
    public bool IsDirectory => Type == Directory;

    /// <summary>"FIFO", "character device"...: how messages name a file that is not a regular one.</summary>
    public string TypeName => Type switch
    {
        Regular => "regular file",
        Directory => "directory",
        Symlink => "symbolic link",
        Fifo => "FIFO",
        CharDevice => "character device",
        BlockDevice => "block device",
        Socket => "socket",
        _ => $"file of type 0{Type >> 12:o}",
    };
}
