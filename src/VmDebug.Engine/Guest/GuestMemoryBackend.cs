namespace VmDebug.Engine.Guest;

public enum GuestMemoryBackend
{
    /// <summary>Plain anonymous RAM (QEMU's default).</summary>
    Anonymous,
    /// <summary>A memory-backend-memfd object: RAM shows up in process cores as a named memfd mapping.</summary>
    Memfd,
    /// <summary>A memory-backend-file object (share=off) on a file in the work directory: a private file mapping in cores.</summary>
    File,
    /// <summary>RAM on hugetlbfs through -mem-path (<see cref="GuestLaunchOptions.MemoryPath"/>): a private hugetlb mapping in cores.</summary>
    HugeTlbFs,
}
