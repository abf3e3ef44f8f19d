using System.Buffers.Binary;
using System.Text;
using VmDebug.Engine.GuestKernel;
using VmDebug.Engine.KernelLog;
using VmDebug.Engine.Vmcore;

namespace VmDebug.Fuzz;

/// <summary>
/// The structured log_buf of Linux 3.5–5.9, which no packaged kernel has, so no dump seeds it: a wrapped ring laid out
/// as struct printk_log is, with the VMCOREINFO keys such kernels export (as KernelLog/StructuredRingTests builds it),
/// mutated in its length and indices and in its records' headers and text, and read as Get-GuestKernelLog reads it.
/// A case is the three u32s log_buf_len, log_first_idx and log_next_idx, then the ring's bytes.
/// </summary>
internal static class StructuredRingFuzzKind
{
    private const ulong PhysBase = 0x200000;
    private const ulong Image = KernelMemoryView.StartKernelMap;
    private const ulong LogBufPointer = Image + 0x10000, LogBufLen = Image + 0x10008, FirstIdx = Image + 0x1000c, NextIdx = Image + 0x10010;
    private const ulong Buffer = Image + 0x20000;
    private const int HeaderSize = 24, RingBytes = 8192, Head = 12;
    private const ulong RamBytes = 4 << 20;
    private static readonly (int, int)[] HeadFields = [(0, 4), (4, 4), (8, 4)];
    private static readonly (int, int)[] RecordFields = [(0, 8), (8, 2), (10, 2), (12, 2), (14, 1), (15, 1), (16, 4)];

    private static readonly VmcoreInfo Info = VmcoreInfo.Parse(
        $"OSRELEASE=5.4.0\nPAGESIZE=4096\nNUMBER(phys_base)={PhysBase}\nSYMBOL(init_top_pgt)={Image + 0x1000:x}\n"
        + $"SYMBOL(log_buf)={LogBufPointer:x}\nSYMBOL(log_buf_len)={LogBufLen:x}\nSYMBOL(log_first_idx)={FirstIdx:x}\n"
        + $"SYMBOL(log_next_idx)={NextIdx:x}\nSIZE(printk_log)={HeaderSize}\nOFFSET(printk_log.ts_nsec)=0\n"
        + "OFFSET(printk_log.len)=8\nOFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\nOFFSET(printk_log.caller_id)=16\n");

    public static FuzzKind Create() => new("printk-log-buf", [Seed()], Mutate, RunAsync);

    /// <summary>Records written on from the middle until the ring wraps, as log_store does: a zero-length marker where the next does not fit.</summary>
    private static byte[] Seed()
    {
        var data = new byte[Head + RingBytes];
        var ring = data.AsSpan(Head);
        var first = (uint)(RingBytes / 2);
        var next = first;
        var wrapped = false;
        for (var i = 0; wrapped is false || next + 512 < first; i++)
        {
            var text = Encoding.ASCII.GetBytes($"vmdebug marker {i}: " + new string('x', i % 40) + (i % 7 == 0 ? "\nsecond line" : ""));
            var dictionary = i % 5 == 0 ? "SUBSYSTEM=pci\0DEVICE=+pci:0000:00:03.0"u8.ToArray() : [];
            var length = (HeaderSize + text.Length + dictionary.Length + 7) / 8 * 8;
            if (next + length + HeaderSize > RingBytes)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(ring[((int)next + 8)..], 0); // the end marker: len 0
                next = 0;
                wrapped = true;
            }
            var record = ring.Slice((int)next, length);
            BinaryPrimitives.WriteUInt64LittleEndian(record, 1_000_000_000UL * (ulong)i + 1234);
            BinaryPrimitives.WriteUInt16LittleEndian(record[8..], (ushort)length);
            BinaryPrimitives.WriteUInt16LittleEndian(record[10..], (ushort)text.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(record[12..], (ushort)dictionary.Length);
            record[14] = (byte)(i % 3);
            record[15] = (byte)(((i % 8) << 5) | 2);
            BinaryPrimitives.WriteUInt32LittleEndian(record[16..], 0x80000000u | (uint)i);
            text.CopyTo(record[HeaderSize..]);
            dictionary.CopyTo(record[(HeaderSize + text.Length)..]);
            next += (uint)length;
        }
        // The writes after the wrap stop short of the first record, which is still the oldest.
        BinaryPrimitives.WriteUInt32LittleEndian(data, RingBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), first);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(8), next);
        return data;
    }

    private static byte[] Mutate(byte[] data, Mutator m)
    {
        void Edit()
        {
            switch (m.Random.Next(4))
            {
                case 0:
                    m.MutateOneOf(data, 0, HeadFields);
                    break;
                case 1:
                case 2:
                    // A record's header: offsets on the 8-byte grid records start on, where the reader looks.
                    m.MutateOneOf(data, Head + (m.Random.Next(RingBytes - HeaderSize) & ~7), RecordFields);
                    break;
                default:
                    m.FlipBytes(data, Head, data.Length, 1 + m.Random.Next(16));
                    break;
            }
        }

        Edit();
        if (m.Random.Next(3) == 0)
        {
            Edit();
        }
        return m.Random.Next(32) == 0 ? m.Truncate(data) : data;
    }

    private static Task RunAsync(byte[] data, string file)
    {
        var memory = new FlatMemory(RamBytes);
        static ulong Physical(ulong virtualAddress) => virtualAddress - Image + PhysBase;
        Span<byte> pointer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(pointer, Buffer);
        memory.Write(Physical(LogBufPointer), pointer);
        var head = data.AsSpan(0, Math.Min(Head, data.Length));
        memory.Write(Physical(LogBufLen), head[..Math.Min(4, head.Length)]);
        memory.Write(Physical(FirstIdx), head[Math.Min(4, head.Length)..Math.Min(8, head.Length)]);
        memory.Write(Physical(NextIdx), head[Math.Min(8, head.Length)..]);
        memory.Write(Physical(Buffer), data.AsSpan(Math.Min(Head, data.Length)));
        using var session = new GuestKernelSession(memory, Info, [], null, []);
        var log = GuestKernelLog.Read(session);
        _ = log.ToMakedumpfileText();
        _ = log.ToKmsgRecords(tail: 50);
        return Task.CompletedTask;
    }

    /// <summary>RAM from 0 to its size, zero where nothing was written, as in a dump.</summary>
    private sealed class FlatMemory(ulong size) : IGuestPhysicalMemory
    {
        private readonly byte[] _bytes = new byte[size];

        public string Name => "printk-log-buf case";

        public IReadOnlyList<PhysicalRange> Ranges { get; } = [new PhysicalRange(0, size)];

        public void Write(ulong address, ReadOnlySpan<byte> bytes) => bytes.CopyTo(_bytes.AsSpan((int)address));

        public bool TryRead(ulong address, Span<byte> buffer)
        {
            if (address > size || (ulong)buffer.Length > size - address)
            {
                return false;
            }
            _bytes.AsSpan((int)address, buffer.Length).CopyTo(buffer);
            return true;
        }
    }
}
