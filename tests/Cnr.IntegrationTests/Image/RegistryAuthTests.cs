using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Cnr.IntegrationTests.Harness;
using Xunit;

namespace Cnr.IntegrationTests.Image;

/// <summary>The registry bearer-token flow as Docker Hub runs it: a front that answers 401 with a
/// WWW-Authenticate Bearer challenge, a token endpoint (optionally demanding Basic credentials), and the real
/// local registry behind it.</summary>
public sealed class RegistryAuthTests
{
    private sealed class TokenAuthFront : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly HttpClient _backend = new();
        private readonly string _registry;
        private readonly string? _basic;
        public int Port { get; }
        public List<string> TokenQueries { get; } = [];

        public TokenAuthFront(string registry, string? basic)
        {
            _registry = registry;
            _basic = basic;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _ = Task.Run(Serve);
        }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext c;
                try { c = await _listener.GetContextAsync(); } catch (Exception) { return; }
                try { await Handle(c); } catch (Exception) { c.Response.StatusCode = 500; }
                finally { c.Response.Close(); }
            }
        }

        private async Task Handle(HttpListenerContext c)
        {
            var path = c.Request.Url!.PathAndQuery;
            if (path.StartsWith("/token", StringComparison.Ordinal))
            {
                lock (TokenQueries) TokenQueries.Add(c.Request.Url.Query);
                if (_basic is not null && c.Request.Headers["Authorization"] != "Basic " + _basic) { c.Response.StatusCode = 401; return; }
                await c.Response.OutputStream.WriteAsync("""{"token":"t0k"}"""u8.ToArray());
                return;
            }
            if (c.Request.Headers["Authorization"] != "Bearer t0k")
            {
                c.Response.StatusCode = 401;
                c.Response.AddHeader("WWW-Authenticate", $"Bearer realm=\"http://127.0.0.1:{Port}/token\",service=\"test-registry\",scope=\"repository:test/busybox:pull\"");
                return;
            }
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{_registry}{path}");
            foreach (var accept in c.Request.AcceptTypes ?? []) request.Headers.TryAddWithoutValidation("Accept", accept);
            using var response = await _backend.SendAsync(request);
            c.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type) c.Response.ContentType = type.ToString();
            await response.Content.CopyToAsync(c.Response.OutputStream);
        }

        public void Dispose() { _listener.Close(); _backend.Dispose(); }
    }

    private static (Scratch, LocalRegistry, string Image) Setup()
    {
        var s = new Scratch();
        var layer = BusyboxRootfs.Tar(BusyboxRootfs.Build(s["src"]), s["l.tgz"]);
        var w = new OciLayoutWriter(s["layout"]);
        w.Tag("1", w.Image([layer], new JsonObject { ["Cmd"] = new JsonArray("sh") }));
        var registry = new LocalRegistry(s["registry"]);
        return (s, registry, registry.Push(s["layout"], "1", "test/busybox:1"));
    }

    [ImageFact]
    public void BundleCreate_FromTokenAuthRegistry_FetchesAnAnonymousToken()
    {
        var (s, registry, _) = Setup();
        using var _s = s;
        using var _r = registry;
        using var front = new TokenAuthFront(registry.Host, basic: null);

        var r = Harness.Cnr.Run(["bundle", "create", s["bundle"], "--from", $"127.0.0.1:{front.Port}/test/busybox:1", "--plain-http", "--store", s["store"]],
            env: new Dictionary<string, string> { ["DOCKER_CONFIG"] = s["no-docker-config"] });

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(s["bundle/rootfs/bin/busybox"]));
        Assert.Contains("service=test-registry", front.TokenQueries[0]);
        Assert.Contains("scope=repository%3Atest%2Fbusybox%3Apull", front.TokenQueries[0]);
    }

    [ImageFact]
    public void BundleCreate_FromRegistryNeedingLogin_UsesDockerConfigCredentials()
    {
        var (s, registry, _) = Setup();
        using var _s = s;
        using var _r = registry;
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("student:secret"));
        using var front = new TokenAuthFront(registry.Host, basic);
        var image = $"127.0.0.1:{front.Port}/test/busybox:1";
        var dockerConfig = Directory.CreateDirectory(s["docker"]).FullName;

        var anonymous = Harness.Cnr.Run(["bundle", "create", s["anon"], "--from", image, "--plain-http", "--store", s["store"]],
            env: new Dictionary<string, string> { ["DOCKER_CONFIG"] = dockerConfig });
        File.WriteAllText(Path.Combine(dockerConfig, "config.json"), new JsonObject { ["auths"] = new JsonObject { [$"127.0.0.1:{front.Port}"] = new JsonObject { ["auth"] = basic } } }.ToJsonString());
        var login = Harness.Cnr.Run(["bundle", "create", s["login"], "--from", image, "--plain-http", "--store", s["store"]],
            env: new Dictionary<string, string> { ["DOCKER_CONFIG"] = dockerConfig });

        Assert.Equal(1, anonymous.ExitCode);
        Assert.Contains($"127.0.0.1:{front.Port}/test/busybox: the token service 127.0.0.1 refused (401", anonymous.Stderr);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.True(File.Exists(s["login/rootfs/bin/busybox"]));
    }
}
