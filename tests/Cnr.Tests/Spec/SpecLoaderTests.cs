using System.Text.Json;
using Cnr.Spec;
using Xunit;

namespace Cnr.Tests.Spec;

public class SpecLoaderTests
{
    private static string DefaultJson => JsonSerializer.Serialize(DefaultSpec.Create(), SpecJson.Default.RuntimeSpec);

    private static string LoadError(TempBundle b) => Assert.Throws<SpecException>(() => SpecLoader.Load(b.Dir)).Message;

    [Fact]
    public void Load_ReadsTheDefaultSpec()
    {
        using var b = new TempBundle().WithConfig(DefaultJson);
        var s = SpecLoader.Load(b.Dir);
        Assert.Equal(["sh"], s.Process!.Args!);
        Assert.Equal("rootfs", s.Root!.Path);
    }

    [Fact]
    public void Load_IgnoresUnknownFields()
    {
        using var b = new TempBundle().WithConfig("""
            {"ociVersion": "1.2.0", "somethingNew": {"x": [1, 2]}, "root": {"path": "rootfs", "future": true},
             "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}
            """);
        Assert.Equal("rootfs", SpecLoader.Load(b.Dir).Root!.Path);
    }

    [Fact]
    public void Load_SkipsAByteOrderMark()
    {
        using var b = new TempBundle();
        File.WriteAllBytes(b.Config, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(DefaultJson)]);
        Assert.Equal("rootfs", SpecLoader.Load(b.Dir).Root!.Path);
    }

    [Fact]
    public void Load_MissingBundle_SaysSo()
    {
        var e = Assert.Throws<SpecException>(() => SpecLoader.Load("/nonexistent/cnr-bundle"));
        Assert.Equal("bundle /nonexistent/cnr-bundle: no such directory (pass the bundle directory with --bundle/-b, or run cnr from inside it)", e.Message);
    }

    [Fact]
    public void Load_MissingConfig_SuggestsCnrSpec()
    {
        using var b = new TempBundle();
        Assert.Equal($"{b.Config}: no such file (write a default one with `cnr spec --bundle {b.Dir}`)", LoadError(b));
    }

    [Fact]
    public void Load_ConfigIsADirectory_SaysItMustBeAFile()
    {
        using var b = new TempBundle();
        Directory.CreateDirectory(b.Config);
        Assert.Equal($"{b.Config}: is a directory (config.json must be a file; write a default one with `cnr spec --bundle {b.Dir}`)", LoadError(b));
    }

    [Fact]
    public void Load_EmptyFile_SaysEmpty()
    {
        using var b = new TempBundle().WithConfig("  \n");
        Assert.Equal($"{b.Config}: the file is empty (write a default one with `cnr spec`)", LoadError(b));
    }

    [Fact]
    public void Load_NullDocument_SaysNotAnObject()
    {
        using var b = new TempBundle().WithConfig("null");
        Assert.Contains("not a JSON object", LoadError(b));
    }

    [Fact]
    public void Load_TruncatedJson_SaysTruncatedWithPosition()
    {
        var json = DefaultJson;
        using var b = new TempBundle().WithConfig(json[..(json.Length / 2)]);
        var message = LoadError(b);
        Assert.StartsWith($"{b.Config}: line ", message);
        Assert.Contains("unexpected end of file (the file is truncated, or a { or [ is not closed)", message);
    }

    [Fact]
    public void Load_MalformedJson_NamesLineColumnAndText()
    {
        using var b = new TempBundle().WithConfig("{\n  \"ociVersion\": \"1.2.0\",\n  \"process\": {args: [\"sh\"]}\n}\n");
        Assert.Equal($"{b.Config}: line 3, column 15: invalid JSON at 'args: [\"sh\"]}}' (check quotes, commas and brackets, e.g. with `jq . config.json`)", LoadError(b));
    }

    [Fact]
    public void Load_StringForNumber_NamesPathAndExpectedType()
    {
        using var b = new TempBundle().WithConfig("""{"ociVersion": "1.2.0", "process": {"args": ["sh"], "user": {"uid": "0", "gid": 0}}}""");
        Assert.Equal($"{b.Config}: process.user.uid: expected a number from 0 to 4294967295, found the string \"0\" (write the number without quotes)", LoadError(b));
    }

    [Fact]
    public void Load_NegativeUid_IsOutOfRange()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"user": {"uid": -1}}}""");
        Assert.Equal($"{b.Config}: process.user.uid: expected a number from 0 to 4294967295, found the number -1", LoadError(b));
    }

    [Fact]
    public void Load_StringForArray_SaysArrayExpected()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"args": "sh"}}""");
        Assert.Equal($"{b.Config}: process.args: expected an array, found the string \"sh\"", LoadError(b));
    }

    [Fact]
    public void Load_WrongTypeInsideArray_NamesTheElement()
    {
        using var b = new TempBundle().WithConfig("""{"linux": {"namespaces": [{"type": "pid"}, {"type": 5}]}}""");
        Assert.Equal($"{b.Config}: linux.namespaces[1].type: expected a string, found the number 5", LoadError(b));
    }

    [Fact]
    public void Load_WrongTypeForBool_SaysTrueOrFalse()
    {
        using var b = new TempBundle().WithConfig("""{"root": {"path": "rootfs", "readonly": "yes"}}""");
        Assert.Equal($"{b.Config}: root.readonly: expected true or false, found the string \"yes\"", LoadError(b));
    }

    [Fact]
    public void Load_WrongTypeForObject_SaysObjectExpected()
    {
        using var b = new TempBundle().WithConfig("""{"linux": {"sysctl": ["net.ipv4.ip_forward"]}}""");
        Assert.Equal($"{b.Config}: linux.sysctl: expected an object, found an array", LoadError(b));
    }

    [Fact]
    public void Load_WrongTypeInDictionaryValue_NamesTheKey()
    {
        using var b = new TempBundle().WithConfig("""{"annotations": {"a.b": 1}}""");
        Assert.Equal($"{b.Config}: annotations[\"a.b\"]: expected a string, found the number 1", LoadError(b));
    }

    [Fact]
    public void Load_TopLevelArray_SaysObjectExpected()
    {
        using var b = new TempBundle().WithConfig("[]");
        Assert.Equal($"{b.Config}: expected a JSON object at the top level, found an array (write a default one with `cnr spec`)", LoadError(b));
    }

    [Fact]
    public void Load_ValidatorErrors_KeepTheirJsonPath()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"args": ["sh"], "cwd": "tmp"}, "root": {"path": "rootfs"}}""");
        var e = Assert.Throws<SpecException>(() => SpecLoader.Load(b.Dir));
        Assert.Equal("process.cwd", e.JsonPath);
        Assert.Equal($"{b.Config}: process.cwd: \"tmp\" is not an absolute path (start it with /, e.g. \"/tmp\")", e.Message);
    }

    [Fact]
    public void Load_MissingRootfs_RunsTheValidator()
    {
        using var b = new TempBundle(withRootfs: false).WithConfig(DefaultJson);
        Assert.Equal($"{b.Config}: root.path: rootfs directory {Path.Combine(b.Dir, "rootfs")} does not exist (unpack a root filesystem there (`mkdir -p DIR && tar -C DIR -xf ROOTFS.tar`), or make a new bundle with `cnr bundle create DIR --from IMAGE`)", LoadError(b));
    }

    [Fact]
    public void Load_InvalidUtf8_NamesFileAndByteOffset()
    {
        using var b = new TempBundle();
        // "sh" with 0xFF in it: byte 48 of the file, line 2, column 25.
        File.WriteAllBytes(b.Config, [.. "{\"ociVersion\": \"1.2.0\",\n \"process\": {\"args\": [\"s"u8, 0xFF, .. "h\"]}}"u8]);
        Assert.Equal($"{b.Config}: byte offset 48 (line 2, column 25): invalid UTF-8 (byte 0xFF) (config.json must be UTF-8 text: re-save it as UTF-8, or write the character as a \\u escape)", LoadError(b));
    }

    [Fact]
    public void Load_TruncatedUtf8Sequence_IsInvalidUtf8AtItsStart()
    {
        using var b = new TempBundle();
        File.WriteAllBytes(b.Config, [.. "{\"hostname\": \"caf"u8, 0xC3]);
        Assert.StartsWith($"{b.Config}: byte offset 17 (line 1, column 18): invalid UTF-8 (byte 0xC3)", LoadError(b));
    }

    [Fact]
    public void Load_NullInsideAList_NamesTheEntry()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"args": ["sh"], "env": ["A=1", null]}, "mounts": [null]}""");
        Assert.Equal($"{b.Config}: process.env[1]: expected a string, found null (remove the entry)", LoadError(b));
        b.WithConfig("""{"mounts": [{"destination": "/x"}, null]}""");
        Assert.Equal($"{b.Config}: mounts[1]: expected an object, found null (remove the entry)", LoadError(b));
    }

    [Fact]
    public void Load_NullForAFieldThatTakesNone_NamesTheField()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"args": ["sh"], "rlimits": [{"type": null, "hard": 1, "soft": 1}]}}""");
        Assert.Equal($"{b.Config}: process.rlimits[0].type: expected a string, found null (give a value, or leave the field out)", LoadError(b));
    }

    [Fact]
    public void Load_NullForAnOptionalField_MeansAbsent()
    {
        using var b = new TempBundle().WithConfig("""{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": null, "hooks": null, "process": {"args": ["sh"], "cwd": "/", "env": null}}""");
        Assert.Null(SpecLoader.Load(b.Dir).Hostname);
    }

    [Fact]
    public void Load_NullDictionaryValue_NamesTheKey()
    {
        using var b = new TempBundle().WithConfig("""{"linux": {"sysctl": {"net.ipv4.ip_forward": null}}}""");
        Assert.Equal($"{b.Config}: linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, found null (give a value, or remove the entry)", LoadError(b));
    }

    [Fact]
    public void Load_NulCharacterInAString_NamesTheField()
    {
        using var b = new TempBundle().WithConfig("""{"root": {"path": "root\u0000fs"}}""");
        Assert.Equal($"{b.Config}: root.path: contains a NUL character (\\u0000) (remove it: no path, name or value can hold one)", LoadError(b));
    }

    [Fact]
    public void Load_LoneSurrogateEscape_NamesTheField()
    {
        using var b = new TempBundle().WithConfig("""{"hostname": "a\ud800b"}""");
        Assert.StartsWith($"{b.Config}: hostname: holds a \\u escape that is half of a UTF-16 surrogate pair", LoadError(b));
        b.WithConfig("""{"annotations": {"\udc00": "x"}}""");
        Assert.StartsWith($"{b.Config}: a key in annotations: holds a \\u escape that is half", LoadError(b));
    }

    [Fact]
    public void Load_DeepNesting_SaysTooDeep()
    {
        using var b = new TempBundle().WithConfig("{\"x\": " + new string('[', 100) + new string(']', 100) + "}");
        Assert.Contains("objects and arrays are nested more than 64 deep", LoadError(b));
    }

    [Fact]
    public void Load_HugeValue_IsShortenedAndStaysOneLine()
    {
        var huge = new string('x', 100_000) + "\n" + new string('y', 10);
        var json = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": [\""
            + huge.Replace("\n", "\\n") + "\"]}}";
        using var b = new TempBundle().WithConfig(json);
        var message = LoadError(b);
        Assert.Equal($"{b.Config}: process.env[0]: \"{new string('x', 80)}… (100011 characters)\" is not NAME=value (e.g. \"TERM=xterm\")", message);
        b.WithConfig("""{"hostname": "a\nb\u001b[31m"}""");
        Assert.DoesNotContain('\n', Assert.Throws<SpecException>(() => SpecLoader.Load(b.Dir)).Message);
    }

    [Fact]
    public void Load_NumberTooLarge_NamesTheFieldAndRange()
    {
        using var b = new TempBundle().WithConfig("""{"process": {"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1e400, "soft": 1}]}}""");
        Assert.Equal($"{b.Config}: process.rlimits[0].hard: expected a number from 0 to 18446744073709551615, found the number 1e400", LoadError(b));
    }

    // A FIFO would block the read forever, /dev/zero would never end.
    [Fact]
    public void Load_ConfigThatIsNotARegularFile_IsRefusedWithoutReadingIt()
    {
        using var b = new TempBundle();
        File.CreateSymbolicLink(b.Config, "/dev/zero");
        Assert.Equal($"{b.Config}: is not a regular file (config.json must be a file; write a default one with `cnr spec --bundle {b.Dir}`)", LoadError(b));
        File.Delete(b.Config);
        Assert.Equal(0, Cnr.Linux.Libc.mkfifo(b.Config, 0b110_000_000));
        Assert.StartsWith($"{b.Config}: is not a regular file", LoadError(b));
    }
}
