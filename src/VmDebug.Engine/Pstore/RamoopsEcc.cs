namespace VmDebug.Engine.Pstore;

/// <summary>
/// The Reed-Solomon parity ramoops keeps when ecc is set (fs/pstore/ram_core.c persistent_ram_init_ecc: 8-bit
/// symbols, field polynomial 0x11d, first consecutive root 0, primitive element 1, 128-byte blocks). Parity is
/// recomputed from the data read and compared with what the guest stored, which finds damage; it does not repair.
/// </summary>
internal sealed class RamoopsEcc
{
    public const int BlockSize = 128;
    private const int FieldPolynomial = 0x11d;

    private static readonly byte[] Exp = new byte[512];
    private static readonly byte[] Log = new byte[256];

    private readonly byte[] _generator; // coefficients of x^0 … x^(n-1); x^n's is 1

    static RamoopsEcc()
    {
        var x = 1;
        for (var i = 0; i < 255; i++)
        {
            Exp[i] = (byte)x;
            Log[x] = (byte)i;
            x <<= 1;
            if ((x & 0x100) != 0)
            {
                x ^= FieldPolynomial;
            }
        }
        for (var i = 255; i < Exp.Length; i++)
        {
            Exp[i] = Exp[i - 255];
        }
    }

    public RamoopsEcc(int paritySize)
    {
        ParitySize = paritySize;
        // g(x) = (x + a^0)(x + a^1)…(x + a^(n-1)), built up one factor at a time.
        var g = new byte[paritySize + 1];
        g[0] = 1;
        for (var root = 0; root < paritySize; root++)
        {
            for (var j = root + 1; j > 0; j--)
            {
                g[j] = (byte)(g[j - 1] ^ Multiply(g[j], Exp[root]));
            }
            g[0] = Multiply(g[0], Exp[root]);
        }
        _generator = g[..paritySize];
    }

    public int ParitySize { get; }

    /// <summary>The parity the kernel's encode_rs8 stores for <paramref name="data"/>: the remainder of data·x^n by g, highest term first.</summary>
    public void Encode(ReadOnlySpan<byte> data, Span<byte> parity)
    {
        var n = ParitySize;
        parity[..n].Clear();
        foreach (var symbol in data)
        {
            var feedback = (byte)(symbol ^ parity[0]);
            for (var j = 0; j < n - 1; j++)
            {
                parity[j] = (byte)(parity[j + 1] ^ Multiply(feedback, _generator[n - 1 - j]));
            }
            parity[n - 1] = Multiply(feedback, _generator[0]);
        }
    }

    public bool Matches(ReadOnlySpan<byte> data, ReadOnlySpan<byte> stored)
    {
        Span<byte> parity = stackalloc byte[ParitySize];
        Encode(data, parity);
        return parity.SequenceEqual(stored[..ParitySize]);
    }

    /// <summary>Blocks and total parity bytes for a zone buffer of <paramref name="bufferSize"/> bytes (persistent_ram_init_ecc).</summary>
    public static (int Blocks, int Total) Geometry(int bufferSize, int paritySize)
    {
        var blocks = (bufferSize - paritySize + BlockSize + paritySize - 1) / (BlockSize + paritySize);
        return (blocks, (blocks + 1) * paritySize);
    }

    private static byte Multiply(byte a, byte b) => a == 0 || b == 0 ? (byte)0 : Exp[Log[a] + Log[b]];
}
