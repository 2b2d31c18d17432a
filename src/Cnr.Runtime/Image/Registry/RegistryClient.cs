using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Cnr.Diagnostics;

namespace Cnr.Image.Registry;

/// <summary>Pulls one image over the OCI distribution API: manifests (index → platform), config and layers,
/// with the anonymous bearer-token flow (or ~/.docker/config.json credentials) and every blob verified and
/// cached by digest.</summary>
public sealed class RegistryClient : IDisposable
{
    private static readonly string[] ManifestTypes =
        [MediaTypes.OciIndex, MediaTypes.OciManifest, MediaTypes.DockerManifestList, MediaTypes.DockerManifest];

    private readonly ImageReference _ref;
    private readonly PullOptions _options;
    private readonly HttpClient _http;
    private readonly BlobStore _store;
    private readonly string? _basic;
    private AuthenticationHeaderValue? _auth;

    public RegistryClient(ImageReference reference, PullOptions options)
    {
        _ref = reference;
        _options = options;
        _store = new BlobStore(options.Store);
        var handler = new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(30) };
        if (!options.TlsVerify)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("cnr/0.1");
        _basic = Credentials.Find(reference.Registry);
    }

    private string Repo => $"{_ref.Registry}/{_ref.Repository}";
    private string BaseUrl => $"{(_options.PlainHttp ? "http" : "https")}://{_ref.ApiHost}/v2/{_ref.Repository}";

    public ResolvedImage Pull()
    {
        var name = _ref.ToString();
        var (body, digest) = GetManifest(_ref.Reference);
        if (_ref.Digest is not null && digest != _ref.Digest)
            throw new ImageException($"{name}: the registry sent a manifest with digest {digest} (refused)");
        var manifest = Manifests.ForPlatform(Manifests.Parse(body, $"{name}: manifest"), d =>
        {
            var (bytes, got) = GetManifest(d.Digest);
            Digests.Verify($"{name}: manifest {d.Digest}", d, got, bytes.Length);
            return bytes;
        }, _options.Platform, name);
        var config = Manifests.Config(File.ReadAllBytes(Blob(manifest.Config!, "config")), name);
        var layers = manifest.Layers!.Select((l, i) =>
            new Layer(Blob(l, $"layer {i + 1}/{manifest.Layers!.Count}"), $"layer {i + 1}/{manifest.Layers!.Count} ({l.Digest})")).ToList();
        return new ResolvedImage(name, digest, config, layers);
    }

    private (byte[] Body, string Digest) GetManifest(string reference)
    {
        using var response = Send(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"{BaseUrl}/manifests/{reference}");
            foreach (var t in ManifestTypes) request.Headers.Accept.ParseAdd(t);
            return request;
        }, reference);
        using var stream = response.Content.ReadAsStream();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        if (buffer.Length > 4 << 20) throw new ImageException($"{Repo}:{reference}: manifest larger than 4 MiB (refused)");
        var body = buffer.ToArray();
        return (body, Digests.Of(body));
    }

    /// <summary>The blob's file in the store: cached, or downloaded and verified.</summary>
    private string Blob(Descriptor d, string what)
    {
        Digests.Validate(d.Digest, $"{Repo}: {what}");
        var label = $"{what} {d.Digest[..19]}";
        if (_store.TryGet(d) is { } cached)
        {
            Console.Error.WriteLine($"{label}: cached ({Size(d.Size)})");
            return cached;
        }
        using var response = Send(() => new HttpRequestMessage(HttpMethod.Get, $"{BaseUrl}/blobs/{d.Digest}"), d.Digest);
        using var stream = response.Content.ReadAsStream();
        var progress = new Progress(label, d.Size);
        var path = _store.Put(d, stream, $"{Repo}: {what} {d.Digest}", progress.Report);
        progress.Done();
        return path;
    }

    /// <summary>Sends a GET, answering one authentication challenge (Bearer token or Basic credentials).</summary>
    private HttpResponseMessage Send(Func<HttpRequestMessage> make, string what)
    {
        for (var attempt = 0; ; attempt++)
        {
            var request = make();
            request.Headers.Authorization = _auth;
            HttpResponseMessage response;
            try { response = _http.Send(request, HttpCompletionOption.ResponseHeadersRead); }
            catch (HttpRequestException e)
            {
                throw new ImageException($"{Repo}: cannot reach {request.RequestUri}: {Describe(e)}", e);
            }
            if (response.IsSuccessStatusCode) return response;
            if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 && Authenticate(response))
            {
                response.Dispose();
                continue;
            }
            using (response) throw Failure(response, what);
        }
    }

    /// <summary>What went wrong and what to try: a TLS failure is most often a plain-HTTP or self-signed
    /// registry, which the framework's text does not say.</summary>
    private string Describe(HttpRequestException e) => e switch
    {
        { HttpRequestError: HttpRequestError.SecureConnectionError } or { InnerException: System.Security.Authentication.AuthenticationException }
            => "the TLS handshake failed (a registry without TLS needs --plain-http; one with a self-signed certificate --tls-verify=false)",
        { HttpRequestError: HttpRequestError.ConnectionError } when !_options.PlainHttp
            => e.Message + " (is the registry running? a registry without TLS needs --plain-http)",
        { HttpRequestError: HttpRequestError.NameResolutionError } => e.Message + " (no such host, or no network)",
        _ => e.Message,
    };

    private bool Authenticate(HttpResponseMessage challenge)
    {
        foreach (var header in challenge.Headers.WwwAuthenticate)
        {
            if (header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && _basic is not null)
            {
                _auth = new AuthenticationHeaderValue("Basic", _basic);
                return true;
            }
            if (!header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) continue;
            var p = ParseChallenge(header.Parameter ?? "");
            if (!p.TryGetValue("realm", out var realm)) continue;
            var query = new List<string>();
            if (p.TryGetValue("service", out var service)) query.Add("service=" + Uri.EscapeDataString(service));
            query.Add("scope=" + Uri.EscapeDataString(p.GetValueOrDefault("scope") ?? $"repository:{_ref.Repository}:pull"));
            var url = realm + (realm.Contains('?') ? "&" : "?") + string.Join('&', query);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (_basic is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _basic);
            using var response = _http.Send(request);
            if (!response.IsSuccessStatusCode)
                throw new ImageException($"{Repo}: the token service {new Uri(realm).Host} refused ({(int)response.StatusCode} {response.ReasonPhrase})" +
                    (_basic is null ? "" : "; check the credentials in ~/.docker/config.json"));
            using var body = response.Content.ReadAsStream();
            var token = JsonSerializer.Deserialize(body, ImageJson.Default.TokenResponse);
            if ((token?.Token ?? token?.AccessToken) is not { Length: > 0 } value)
                throw new ImageException($"{Repo}: the token service {new Uri(realm).Host} returned no token");
            _auth = new AuthenticationHeaderValue("Bearer", value);
            return true;
        }
        return false;
    }

    /// <summary>key="value" pairs of a WWW-Authenticate challenge (values may hold commas: scope="a,b").</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameters)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameters.Length)
        {
            while (i < parameters.Length && parameters[i] is ' ' or ',') i++;
            var eq = parameters.IndexOf('=', i);
            if (eq < 0) break;
            var key = parameters[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameters.Length && parameters[i] == '"')
            {
                var end = parameters.IndexOf('"', i + 1);
                if (end < 0) end = parameters.Length;
                value = parameters[(i + 1)..end];
                i = end + 1;
            }
            else
            {
                var end = parameters.IndexOf(',', i);
                if (end < 0) end = parameters.Length;
                value = parameters[i..end].Trim();
                i = end;
            }
            result[key] = value;
        }
        return result;
    }

    private ImageException Failure(HttpResponseMessage response, string what)
    {
        var status = (int)response.StatusCode;
        string body;
        try { body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult(); } catch (HttpRequestException) { body = ""; }
        var reason = status switch
        {
            _ when body.Contains("NAME_UNKNOWN") => "repository not found",
            _ when body.Contains("MANIFEST_UNKNOWN") => MissingManifest(what),
            _ when body.Contains("BLOB_UNKNOWN") => $"blob {what} not found",
            401 or 403 => _basic is null ? "repository not found, or it needs a login (none in ~/.docker/config.json)" : "access denied with the credentials in ~/.docker/config.json",
            404 => $"\"{what}\" not found",
            429 => "too many requests (rate limited); try again later",
            _ => response.ReasonPhrase ?? "request failed",
        };
        return new ImageException($"{Repo}: {reason} ({status})");
    }

    /// <summary>Some registries answer MANIFEST_UNKNOWN for a repository that does not exist either; the tag
    /// list tells the two apart, and names the tags there are.</summary>
    private string MissingManifest(string reference)
    {
        if (reference.StartsWith("sha256:", StringComparison.Ordinal)) return $"no manifest {reference}";
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{BaseUrl}/tags/list?n=20");
        request.Headers.Authorization = _auth;
        try
        {
            using var response = _http.Send(request);
            var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            if (body.Contains("NAME_UNKNOWN")) return "repository not found";
            var tags = response.IsSuccessStatusCode ? JsonSerializer.Deserialize(body, ImageJson.Default.TagList)?.Tags : null;
            return $"no such tag \"{reference}\"" + (tags is { Count: > 0 } ? $" (tags: {string.Join(", ", tags)})" : "");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return $"no such tag \"{reference}\"";
        }
    }

    public void Dispose() => _http.Dispose();

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:0.0} MiB" : $"{bytes / 1024.0:0.0} KiB";

    /// <summary>One line per blob: redrawn in place on a terminal, printed once when done otherwise.</summary>
    private sealed class Progress(string label, long total)
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private long _lastDraw = -1, _bytes;

        public void Report(long bytes)
        {
            _bytes = bytes;
            if (!_terminal || Environment.TickCount64 - _lastDraw < 200) return;
            _lastDraw = Environment.TickCount64;
            Console.Error.Write($"\r{label}: {Size(bytes)} / {Size(total)}   ");
        }

        public void Done()
        {
            if (_terminal) Console.Error.Write($"\r{label}: {Size(_bytes)} / {Size(total)}   \n");
            else Console.Error.WriteLine($"{label}: downloaded ({Size(_bytes)})");
        }
    }
}

/// <summary>Registry credentials from docker's config.json `auths` (base64 "user:password"), as docker login
/// writes them; Docker Hub's key is https://index.docker.io/v1/.</summary>
internal static class Credentials
{
    public static string? Find(string registry)
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        var path = Path.Combine(dir, "config.json");
        if (!File.Exists(path)) return null;
        DockerConfigFile? config;
        try { config = JsonSerializer.Deserialize(File.ReadAllBytes(path), ImageJson.Default.DockerConfigFile); }
        catch (JsonException e) { Log.Warn($"{path}: ignored, not valid JSON: {e.Message}"); return null; }
        if (config?.Auths is null) return null;
        string[] keys = registry == ImageReference.DockerHub
            ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
            : [registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/"];
        foreach (var key in keys)
            if (config.Auths.TryGetValue(key, out var a) && a.Auth is { Length: > 0 } auth)
            {
                try { if (Encoding.UTF8.GetString(Convert.FromBase64String(auth)).Contains(':')) return auth; }
                catch (FormatException) { }
                Log.Warn($"{path}: auths[\"{key}\"].auth is not base64 of user:password; ignored");
            }
        return null;
    }
}
