using System.Buffers.Binary;
using System.Text;

namespace VmDebug.Engine.GuestKernel;

/// <summary>
/// The kernel's own symbol table, read from guest memory through the kallsyms addresses VMCOREINFO exports since
/// Linux 6.0 (kernel/vmcore_info.c: kallsyms_names, kallsyms_num_syms, kallsyms_token_table, kallsyms_token_index,
/// kallsyms_offsets, kallsyms_relative_base). Never a vmlinux. Names are token-compressed: each entry is a length
/// (one byte, or two when the first has bit 7 set, since 6.1) and that many token indices; a token expands to a
/// NUL-terminated string in the token table; the first expanded character is the symbol type. Addresses are
/// kallsyms_relative_base + offset, except under KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP before 6.15), where
/// non-negative offsets are absolute and negative ones are relative_base - 1 - offset (kernel/kallsyms.c,
/// kallsyms_sym_address; drgn libdrgn/kallsyms.c reads them the same way).
/// </summary>
public sealed class KernelSymbols
{
    private const uint MaxSymbols = 4_000_000;
    private const int MaxNamesBytes = 64 << 20;
    private const int Chunk = 64 << 10;

    private readonly ulong[] _addresses; // sorted, as kallsyms keeps them
    private readonly int[] _nameOffsets;
    private readonly byte[] _names;
    private readonly string[] _tokens;
    private Dictionary<string, List<int>>? _byName;

    private KernelSymbols(ulong[] addresses, int[] nameOffsets, byte[] names, string[] tokens)
    {
        _addresses = addresses;
        _nameOffsets = nameOffsets;
        _names = names;
        _tokens = tokens;
    }

    public int Count => _addresses.Length;

    /// <summary>Reads kallsyms; null (with the reason in <paramref name="whyNot"/>) when VMCOREINFO lacks it or it is unreadable.</summary>
    public static KernelSymbols? TryLoad(KernelMemoryView view, out string? whyNot)
    {
        var info = view.VmcoreInfo;
        var names = info.Symbol("kallsyms_names");
        var count = info.Symbol("kallsyms_num_syms");
        var tokenTable = info.Symbol("kallsyms_token_table");
        var tokenIndex = info.Symbol("kallsyms_token_index");
        var offsets = info.Symbol("kallsyms_offsets");
        var relativeBase = info.Symbol("kallsyms_relative_base");
        if (names is null || count is null || tokenTable is null || tokenIndex is null || offsets is null || relativeBase is null)
        {
            whyNot = "VMCOREINFO carries no kallsyms (the kernel is older than 6.0 or lacks CONFIG_KALLSYMS), so no symbols are shown.";
            return null;
        }
        try
        {
            whyNot = null;
            return Load(view, names.Value, count.Value, tokenTable.Value, tokenIndex.Value, offsets.Value, relativeBase.Value);
        }
        catch (GuestKernelException e)
        {
            whyNot = $"The kernel's kallsyms tables cannot be read: {e.Message}";
            return null;
        }
    }

    private static KernelSymbols Load(KernelMemoryView view, ulong namesAddress, ulong countAddress, ulong tokenTable, ulong tokenIndex,
        ulong offsetsAddress, ulong relativeBaseAddress)
    {
        var source = view.Memory.Name;
        var count = view.ReadUInt32(countAddress, "kallsyms_num_syms");
        if (count is 0 or > MaxSymbols)
        {
            throw new GuestKernelException(GuestKernelException.VmcoreInfoIncomplete, ErrorKind.InvalidData, source,
                $"kallsyms_num_syms is {count}, not a plausible symbol count.");
        }
        var index = view.ReadBytes(tokenIndex, 256 * 2, "kallsyms_token_index");
        var maxTokenOffset = 0;
        for (var i = 0; i < 256; i++)
        {
            maxTokenOffset = Math.Max(maxTokenOffset, BinaryPrimitives.ReadUInt16LittleEndian(index.AsSpan(i * 2)));
        }
        var table = view.ReadBytes(tokenTable, maxTokenOffset + 256, "kallsyms_token_table");
        var tokens = new string[256];
        for (var i = 0; i < 256; i++)
        {
            var start = BinaryPrimitives.ReadUInt16LittleEndian(index.AsSpan(i * 2));
            var nul = table.AsSpan(start).IndexOf((byte)0);
            tokens[i] = Encoding.ASCII.GetString(table.AsSpan(start, nul >= 0 ? nul : table.Length - start));
        }

        // The names blob has no exported length: read it in chunks as the entries are walked.
        var names = new List<byte>(1 << 20);
        var nameOffsets = new int[count];
        var reader = new ChunkReader(view, namesAddress);
        for (var i = 0; i < count; i++)
        {
            nameOffsets[i] = names.Count;
            int length = reader.Next();
            names.Add((byte)length);
            if ((length & 0x80) != 0)
            {
                var high = reader.Next();
                names.Add(high);
                length = (length & 0x7f) | (high << 7);
            }
            for (var t = 0; t < length; t++)
            {
                names.Add(reader.Next());
            }
            if (names.Count > MaxNamesBytes)
            {
                throw new GuestKernelException(GuestKernelException.ReadTooLarge, ErrorKind.LimitsExceeded, source,
                    $"kallsyms_names runs past {MaxNamesBytes} bytes.");
            }
        }

        var offsets = view.ReadBytes(offsetsAddress, 4L * count, "kallsyms_offsets");
        var relativeBase = view.ReadUInt64(relativeBaseAddress, "kallsyms_relative_base");
        var absolutePercpu = false;
        for (var i = 0; i < count && !absolutePercpu; i++)
        {
            absolutePercpu = BinaryPrimitives.ReadInt32LittleEndian(offsets.AsSpan(i * 4)) < 0;
        }
        var addresses = new ulong[count];
        for (var i = 0; i < count; i++)
        {
            var offset = BinaryPrimitives.ReadInt32LittleEndian(offsets.AsSpan(i * 4));
            addresses[i] = !absolutePercpu ? relativeBase + (uint)offset
                : offset >= 0 ? (ulong)offset : unchecked(relativeBase - 1 - (ulong)(long)offset);
        }
        return new KernelSymbols(addresses, nameOffsets, names.ToArray(), tokens);
    }

    /// <summary>The symbol at or below <paramref name="address"/> (the first of aliases), with its size up to the next symbol.</summary>
    public KernelSymbolMatch? Lookup(ulong address)
    {
        int lo = 0, hi = _addresses.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_addresses[mid] <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        if (found < 0)
        {
            return null;
        }
        while (found > 0 && _addresses[found - 1] == _addresses[found])
        {
            found--;
        }
        var next = found + 1;
        while (next < _addresses.Length && _addresses[next] == _addresses[found])
        {
            next++;
        }
        if (next == _addresses.Length)
        {
            return null; // past the last symbol (_end): no size to check against
        }
        return new KernelSymbolMatch(Name(found), _addresses[found], address - _addresses[found], _addresses[next] - _addresses[found]);
    }

    /// <summary>Addresses of the symbols called <paramref name="name"/> (static functions may share a name).</summary>
    public IReadOnlyList<ulong> AddressesOf(string name)
    {
        if (_byName is null)
        {
            var byName = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < _addresses.Length; i++)
            {
                var n = Name(i);
                if (!byName.TryGetValue(n, out var list))
                {
                    byName[n] = list = [];
                }
                list.Add(i);
            }
            _byName = byName;
        }
        return _byName.TryGetValue(name, out var indices) ? indices.Select(i => _addresses[i]).ToList() : [];
    }

    /// <summary>The symbol's name without its type character.</summary>
    public string Name(int index)
    {
        var at = _nameOffsets[index];
        int length = _names[at++];
        if ((length & 0x80) != 0)
        {
            length = (length & 0x7f) | (_names[at++] << 7);
        }
        var name = new StringBuilder(32);
        for (var t = 0; t < length; t++)
        {
            name.Append(_tokens[_names[at + t]]);
        }
        return name.Length > 0 ? name.ToString(1, name.Length - 1) : "";
    }

    /// <summary>Sequential bytes of kernel memory, read a chunk at a time.</summary>
    private sealed class ChunkReader(KernelMemoryView view, ulong address)
    {
        private readonly byte[] _buffer = new byte[Chunk];
        private ulong _next = address;
        private int _position = Chunk;

        public byte Next()
        {
            if (_position == Chunk)
            {
                view.Read(_next, _buffer, "kallsyms_names");
                _next += Chunk;
                _position = 0;
            }
            return _buffer[_position++];
        }
    }
}
