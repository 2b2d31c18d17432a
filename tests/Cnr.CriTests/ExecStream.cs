using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Cnr.CriTests;

/// <summary>Drives the streaming URL that the CRI Exec call returns, as `kubectl exec -it` does through the
/// kubelet: a WebSocket with the "v4.channel.k8s.io" subprotocol, every message prefixed by its channel
/// (0 stdin, 1 stdout, 2 stderr, 3 the final status as JSON, 4 terminal resize).</summary>
internal static class ExecStream
{
    private const byte Stdin = 0, Stdout = 1, Stderr = 2, Error = 3, Resize = 4;

    /// <summary>Sends the terminal size, waits for the first output (the shell's prompt: the process runs and
    /// the resize was handed on before it), types <paramref name="input"/>, and collects the output up to the
    /// server's close. Returns the output and the exit code from the status on channel 3.</summary>
    public static async Task<(string Output, int ExitCode)> RunAsync(string url, int width, int height, string input, CancellationToken ct)
    {
        using var ws = new ClientWebSocket();
        ws.Options.AddSubProtocol("v4.channel.k8s.io");
        await ws.ConnectAsync(new Uri("ws" + url["http".Length..]), ct);
        await SendAsync(ws, Resize, JsonSerializer.SerializeToUtf8Bytes(new TerminalSize { Width = width, Height = height }, CriJson.Default.TerminalSize), ct);

        var output = new StringBuilder();
        string? status = null;
        bool typed = false;
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(buffer, ct);
                message.Write(buffer, 0, r.Count);
            } while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
            if (r.MessageType == WebSocketMessageType.Close) break;
            var data = message.ToArray();
            if (data.Length < 2) continue; // an empty message on a channel only says the channel is open
            var text = Encoding.UTF8.GetString(data, 1, data.Length - 1);
            switch (data[0])
            {
                case Stdout or Stderr:
                    output.Append(text);
                    if (!typed)
                    {
                        typed = true;
                        await SendAsync(ws, Stdin, Encoding.UTF8.GetBytes(input), ct);
                    }
                    break;
                case Error:
                    status = text;
                    break;
            }
        }
        if (status is null) throw new InvalidOperationException($"the exec stream closed without a status; output: {output}");
        return (output.ToString(), ExitCode(status));
    }

    /// <summary>The kubelet's status: {"status":"Success"}, or "Failure" with a cause {"reason":"ExitCode",
    /// "message":"N"} for a non-zero exit.</summary>
    private static int ExitCode(string status)
    {
        using var doc = JsonDocument.Parse(status);
        var root = doc.RootElement;
        if (root.GetProperty("status").GetString() == "Success") return 0;
        if (root.TryGetProperty("details", out var details) && details.TryGetProperty("causes", out var causes))
        {
            foreach (var cause in causes.EnumerateArray())
            {
                if (cause.GetProperty("reason").GetString() == "ExitCode") return int.Parse(cause.GetProperty("message").GetString()!);
            }
        }
        throw new InvalidOperationException($"the exec stream's status has no exit code: {status}");
    }

    private static Task SendAsync(ClientWebSocket ws, byte channel, byte[] payload, CancellationToken ct)
    {
        var message = new byte[payload.Length + 1];
        message[0] = channel;
        payload.CopyTo(message, 1);
        return ws.SendAsync(message, WebSocketMessageType.Binary, true, ct);
    }
}

internal sealed class TerminalSize
{
    public int Width { get; set; }
    public int Height { get; set; }
}
