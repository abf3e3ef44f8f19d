using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Vmcore;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.KernelLog;

/// <summary>
/// The structured log_buf of Linux 3.5–5.9, which no packaged kernel here has: rings built in memory from the
/// VMCOREINFO keys such kernels export (SYMBOL(log_buf) ... OFFSET(printk_log.*)), laid out as struct printk_log is.
/// </summary>
public class StructuredRingTests
{
    private const ulong PhysBase = 0x200000;
    private const ulong Image = KernelMemoryView.StartKernelMap;
    private const ulong LogBufPointer = Image + 0x10000, LogBufLen = Image + 0x10008, FirstIdx = Image + 0x1000c, NextIdx = Image + 0x10010;
    private const ulong Buffer = Image + 0x20000;
    private const int HeaderSize = 24; // ts_nsec 8, len 2, text_len 2, dict_len 2, facility 1, flags:5/level:3 1, caller_id 4, padding

    private static string VmcoreInfoText(bool withCaller) =>
        $"OSRELEASE=5.4.0\nPAGESIZE=4096\nNUMBER(phys_base)={PhysBase}\nSYMBOL(init_top_pgt)={Image + 0x1000:x}\n"
        + $"SYMBOL(log_buf)={LogBufPointer:x}\nSYMBOL(log_buf_len)={LogBufLen:x}\nSYMBOL(log_first_idx)={FirstIdx:x}\n"
        + $"SYMBOL(log_next_idx)={NextIdx:x}\nSIZE(printk_log)={HeaderSize}\nOFFSET(printk_log.ts_nsec)=0\n"
        + "OFFSET(printk_log.len)=8\nOFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n"
        + (withCaller ? "OFFSET(printk_log.caller_id)=16\n" : "");

    /// <summary>A record as the kernel's log_store writes it; its length rounded up to 8 (LOG_ALIGN).</summary>
    private static byte[] Record(ulong tsNsec, int level, int facility, string text, string dictionary = "", uint caller = 0, int flags = 2)
    {
        var textBytes = Encoding.Latin1.GetBytes(text);
        var dictBytes = Encoding.ASCII.GetBytes(dictionary);
        var length = (HeaderSize + textBytes.Length + dictBytes.Length + 7) / 8 * 8;
        var record = new byte[length];
        BinaryPrimitives.WriteUInt64LittleEndian(record, tsNsec);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(8), (ushort)length);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(10), (ushort)textBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(12), (ushort)dictBytes.Length);
        record[14] = (byte)facility;
        record[15] = (byte)((level << 5) | flags);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(16), caller);
        textBytes.CopyTo(record, HeaderSize);
        dictBytes.CopyTo(record, HeaderSize + textBytes.Length);
        return record;
    }

    private static (GuestKernelSession Session, SparsePhysicalMemory Memory) Ring(byte[] buffer, uint first, uint next, bool withCaller = true)
    {
        var memory = new SparsePhysicalMemory(16 << 20);
        ulong Physical(ulong va) => va - Image + PhysBase;
        memory.WriteUInt64(Physical(LogBufPointer), Buffer);
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(u32, (uint)buffer.Length);
        memory.Write(Physical(LogBufLen), u32);
        BinaryPrimitives.WriteUInt32LittleEndian(u32, first);
        memory.Write(Physical(FirstIdx), u32);
        BinaryPrimitives.WriteUInt32LittleEndian(u32, next);
        memory.Write(Physical(NextIdx), u32);
        memory.Write(Physical(Buffer), buffer);
        return (new GuestKernelSession(memory, VmcoreInfo.Parse(VmcoreInfoText(withCaller)), [], null, []), memory);
    }

    [Fact]
    public void ReadsAWrappedRingWithDictionariesInMakedumpfilesText()
    {
        // 512-byte buffer: the oldest record at 384, an end marker (len 0) at 448, the newest two from 0.
        var buffer = new byte[512];
        var oldest = Record(1_000_001_000, 6, 0, "oldest");
        var wrapped = Record(2_500_000_000, 3, 0, "e1000 0000:00:03.0: link\ndown", "SUBSYSTEM=pci\0DEVICE=+pci:0000:00:03.0", caller: 0x80000001);
        var newest = Record(3_000_000_000, 4, 1, "odd \x01 and \xc3 bytes\ttab");
        oldest.CopyTo(buffer, 384);
        wrapped.CopyTo(buffer, 0);
        newest.CopyTo(buffer, wrapped.Length);
        var (session, _) = Ring(buffer, first: 384, next: (uint)(wrapped.Length + newest.Length));

        var log = GuestKernelLog.Read(session);

        Assert.Equal("structured", log.RingFormat);
        Assert.Equal(
            "[    1.000001] oldest\n"
            + "[    2.500000] e1000 0000:00:03.0: link\n"
            + "               down\n"
            + "[    3.000000] odd \\x01 and \\xffffffc3 bytes\ttab\n",
            log.ToMakedumpfileText());
        var records = log.ToKmsgRecords();
        Assert.Equal([0UL, 1UL, 2UL], records.Select(r => r.Sequence));
        Assert.Equal("pci", records[1].Fields["SUBSYSTEM"]);
        Assert.Equal("+pci:0000:00:03.0", records[1].Fields["DEVICE"]);
        Assert.Equal("C1", records[1].Caller);
        Assert.Equal(KmsgLevel.Err, records[1].Level);
        Assert.Equal(KmsgFacility.User, records[2].Facility);
        Assert.Contains(log.Warnings, w => w.Contains("log_first_seq", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutCallerIdTheRecordsHaveNoCaller()
    {
        var buffer = new byte[256];
        Record(5_000, 6, 0, "no caller").CopyTo(buffer, 0);
        var (session, _) = Ring(buffer, first: 0, next: (uint)Record(5_000, 6, 0, "no caller").Length, withCaller: false);

        var record = Assert.Single(GuestKernelLog.Read(session).ToKmsgRecords());
        Assert.Null(record.Caller);
        Assert.Equal("no caller", record.Message);
    }

    [Fact]
    public void ACycleEndsInAPartialLogWithAWarning()
    {
        // R0 at 0 leads to R1 at 64, R1 to an end marker at 128, the marker back to R0: log_next_idx (200) is never
        // reached. The walk must stop after as many records as the buffer can hold, not loop.
        var buffer = new byte[256];
        foreach (var (at, text) in new[] { (0, "r0"), (64, "r1") })
        {
            var record = Record(1_000, 6, 0, text);
            BinaryPrimitives.WriteUInt16LittleEndian(record.AsSpan(8), 64);
            record.CopyTo(buffer, at);
        }
        var (session, _) = Ring(buffer, first: 64, next: 200);

        var log = GuestKernelLog.Read(session);
        Assert.InRange(log.Entries.Count, 2, 256 / HeaderSize + 2);
        Assert.Equal(["r1", "r0"], log.ToKmsgRecords().Take(2).Select(r => r.Message));
        Assert.Contains(log.Warnings, w => w.Contains("cycle", StringComparison.Ordinal));
    }

    [Fact]
    public void EndMarkersOnlyNeverLoop()
    {
        var buffer = new byte[256]; // all zero: every header is an end marker
        var (session, _) = Ring(buffer, first: 64, next: 128);

        var log = GuestKernelLog.Read(session);
        Assert.Empty(log.Entries);
        Assert.Contains(log.Warnings, w => w.Contains("length 0", StringComparison.Ordinal));
    }

    [Fact]
    public void IndicesOutsideTheBufferAreATypedError()
    {
        var (session, _) = Ring(new byte[256], first: 4096, next: 0);

        var error = Assert.Throws<KernelLogException>(() => GuestKernelLog.Read(session));
        Assert.Equal(KernelLogException.RingCorrupt, error.ErrorId);
    }
}
