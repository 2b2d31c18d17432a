using System.Diagnostics;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Build;

/// <summary>A fact about a built image's symbol file (out/publish*/…dbg, written by `make`): skipped, saying so,
/// where it is missing or binutils' nm is.</summary>
public sealed class BuiltImageFactAttribute : FactAttribute
{
    public BuiltImageFactAttribute(string symbols)
    {
        var path = Path.Combine(Repo.Root, symbols);
        if (!File.Exists(path)) Skip = $"{symbols} not built (run `make`)";
        else if (!File.Exists("/usr/bin/nm")) Skip = "no /usr/bin/nm (binutils) to read the image's symbols";
    }
}

/// <summary>The images are laid out by the hot-method lists (src/NativeImage.props, IlcOrderFile): the lists must
/// still name the images' methods, and the compiler must have put them first. A list gone stale costs memory and
/// start-up time without failing anything else (README, start-up cost: peak RSS of `run` 7.6 against 10.8 MiB).</summary>
public sealed class MethodOrderTests
{
    private static Dictionary<string, ulong> Methods(string symbols)
    {
        var psi = new ProcessStartInfo("/usr/bin/nm", ["--defined-only", Path.Combine(Repo.Root, symbols)]) { RedirectStandardOutput = true };
        using var nm = System.Diagnostics.Process.Start(psi)!;
        var methods = new Dictionary<string, ulong>();
        string? line;
        while ((line = nm.StandardOutput.ReadLine()) is not null)
        {
            var f = line.Split(' ', 3);
            if (f.Length == 3 && f[1] is "t" or "T") methods.TryAdd(f[2], Convert.ToUInt64(f[0], 16));
        }
        nm.WaitForExit();
        return methods;
    }

    private static void ListNamesTheImagesMethods_FirstInOrder(string symbols, string order)
    {
        var methods = Methods(symbols);
        var listed = File.ReadAllLines(Path.Combine(Repo.Root, order)).Where(l => l.Length > 0).ToList();
        var found = listed.Where(methods.ContainsKey).ToList();
        Assert.True(listed.Count > 300, $"{order} lists {listed.Count} methods: rewrite it with `sudo make order`");
        Assert.True(found.Count >= 0.9 * listed.Count,
            $"{listed.Count - found.Count} of the {listed.Count} methods {order} lists are not in the image: the hot paths "
            + "changed; rewrite it with `sudo make order`");
        // Laid out in list order: the listed methods' addresses rise with their place in the list (ILC keeps the
        // order; a few methods folded into one body share an address).
        var addresses = found.Select(n => methods[n]).ToList();
        int rising = addresses.Zip(addresses.Skip(1)).Count(p => p.Second >= p.First);
        Assert.True(rising >= 0.95 * (addresses.Count - 1),
            $"only {rising} of {addresses.Count - 1} consecutive methods of {order} lie in list order: ILC did not take "
            + "the order file (IlcOrderFile in src/NativeImage.props)");
    }

    [BuiltImageFact("out/publish/cnr.dbg")]
    public void CnrOrder_NamesTheImagesMethods_AndTheyComeFirst()
        => ListNamesTheImagesMethods_FirstInOrder("out/publish/cnr.dbg", "src/cnr/cnr.order");

    [BuiltImageFact("out/publish-init/cnr-init.dbg")]
    public void InitOrder_NamesTheImagesMethods_AndTheyComeFirst()
        => ListNamesTheImagesMethods_FirstInOrder("out/publish-init/cnr-init.dbg", "src/cnr-init/cnr-init.order");
}
