using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Cnr.Diagnostics;

/// <summary>runc-compatible logging: `--log FILE` (default stderr), `--log-format text|json`, `--debug`.
/// In json mode every line is {"level":…,"msg":…,"time":…}; containerd's shim reads the last error line.</summary>
public static class Log
{
    private static readonly object Gate = new();
    private static Stream? _file;
    public static bool Json { get; private set; }
    public static bool DebugEnabled { get; private set; }

    public static void Configure(string? path, string? format, bool debug)
    {
        Json = string.Equals(format, "json", StringComparison.OrdinalIgnoreCase);
        DebugEnabled = debug;
        // Configure replaces what an earlier call set, as its arguments say (the unit tests configure it twice).
        lock (Gate)
        {
            _file?.Dispose();
            _file = string.IsNullOrEmpty(path) ? null
                : new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1, FileOptions.None);
        }
    }

    public static bool HasFile => _file is not null;

    public static void Debug(string msg) { if (DebugEnabled) Write("debug", msg); }
    public static void Info(string msg) => Write("info", msg);
    public static void Warn(string msg) => Write("warning", msg);

    /// <summary>An error for the user: one line on stderr, and the log file when there is one.</summary>
    public static void Error(string msg)
    {
        // Both, as runc's fatal(): callers (containerd's shim, dockerd) show the runtime's stderr to the user.
        if (_file is not null) Write("error", msg);
        Console.Error.WriteLine("cnr: " + msg);
    }

    private static void Write(string level, string msg)
    {
        string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
        string line;
        if (Json)
        {
            var sb = new StringBuilder("{\"level\":\"").Append(level).Append("\",\"msg\":");
            sb.Append(JsonEncode(msg)).Append(",\"time\":\"").Append(time).Append("\"}\n");
            line = sb.ToString();
        }
        else
        {
            line = $"time=\"{time}\" level={level} msg={JsonEncode(msg)}\n";
        }
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (Gate)
        {
            if (_file is not null) { _file.Write(bytes); _file.Flush(); }
            else if (level != "error") { using var err = Console.OpenStandardError(); err.Write(bytes); }
        }
    }

    private static string JsonEncode(string s)
    {
        var buf = new ArrayBufferWriter<byte>(256);
        // Relaxed: text logs keep quotes and arrows readable; JSON stays valid.
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })) w.WriteStringValue(s);
        return Encoding.UTF8.GetString(buf.WrittenSpan);
    }
}
