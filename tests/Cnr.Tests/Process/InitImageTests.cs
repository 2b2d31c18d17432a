using Cnr.Process;
using Xunit;

namespace Cnr.Tests.Process;

public class InitImageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnr-initimage-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Touch(string relative)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    [Fact]
    public void Find_CnrInitBesideCnr_ComesFirst()
    {
        var cnr = Touch("bin/cnr");
        var beside = Touch("bin/cnr-init");
        Touch("libexec/cnr/cnr-init");
        Assert.Equal(beside, InitImage.Find(cnr));
    }

    [Fact]
    public void Find_InstalledLayout_IsLibexecCnr()
    {
        var cnr = Touch("bin/cnr");
        var init = Touch("libexec/cnr/cnr-init");
        Assert.Equal(init, InitImage.Find(cnr));
    }

    [Fact]
    public void Find_NoInitImage_IsCnrItself()
    {
        var cnr = Touch("bin/cnr");
        Assert.Equal(cnr, InitImage.Find(cnr));
    }

    [Fact]
    public void Find_NoOwnPath_IsNull() => Assert.Null(InitImage.Find(null));
}
