using System.Runtime.InteropServices;
using System.Text;

namespace Cnr.Linux;

/// <summary>NUL-terminated UTF-8 copies that live until disposed.</summary>
public sealed unsafe class NativeStrings : IDisposable
{
    private readonly List<nint> _blocks = [];

    public byte* Get(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        _blocks.Add((nint)p);
        return p;
    }

    public byte** Array(IReadOnlyList<string> items)
    {
        var a = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        _blocks.Add((nint)a);
        for (int i = 0; i < items.Count; i++) a[i] = Get(items[i]);
        a[items.Count] = null;
        return a;
    }

    public void Dispose()
    {
        foreach (var b in _blocks) NativeMemory.Free((void*)b);
    }
}
