using System.Net;
using VmDebug.Engine.Debuginfod;
using VmDebug.Tests.Support;

namespace VmDebug.Tests.Debuginfod;

public sealed class DebuginfodClientTests(SmallElfDebuginfodFixture debuginfod) : IClassFixture<SmallElfDebuginfodFixture>
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fetches_the_file_by_build_id_into_the_cache_once()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        var counter = new CountingHandler();
        using var client = new DebuginfodClient([debuginfod.Server.Url], counter);

        var path = await client.FetchDebugInfoAsync(debuginfod.FirstBuildId.ToUpperInvariant(), cache.Path, Token);

        Assert.Equal(Path.Combine(cache.Path, debuginfod.FirstBuildId, "vmlinux"), path);
        Assert.Equal(await File.ReadAllBytesAsync(debuginfod.FirstPath, Token), await File.ReadAllBytesAsync(path, Token));
        Assert.Equal([DebuginfodClient.FileName], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        var again = await client.FetchDebugInfoAsync(debuginfod.FirstBuildId, cache.Path, Token);
        Assert.Equal(path, again);
        Assert.Equal(1, counter.Requests);
    }

    [Fact]
    public async Task Concurrent_fetches_of_one_build_id_share_one_download()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        var counter = new CountingHandler();
        using var client = new DebuginfodClient([debuginfod.Server.Url], counter);

        var paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => client.FetchDebugInfoAsync(debuginfod.SecondBuildId, cache.Path, Token)));

        Assert.Single(paths.Distinct());
        Assert.Equal(1, counter.Requests);
        Assert.Equal(await File.ReadAllBytesAsync(debuginfod.SecondPath, Token), await File.ReadAllBytesAsync(paths[0], Token));
    }

    [Fact]
    public async Task Unknown_build_id_is_not_found_naming_server_and_id()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        using var client = new DebuginfodClient([debuginfod.Server.Url]);
        const string unknown = "00112233445566778899aabbccddeeff00112233";

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync(unknown, cache.Path, Token));

        Assert.Equal("DebuginfodNotFound", e.ErrorId);
        Assert.Equal(unknown, e.Target);
        Assert.Equal(debuginfod.Server.Url, e.Server);
        Assert.Contains(unknown, e.Message);
        Assert.Contains(debuginfod.Server.Url.ToString(), e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache.Path, unknown)));
    }

    [Fact]
    public async Task Tries_the_servers_in_turn_past_an_unreachable_one()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        var closed = new Uri($"http://127.0.0.1:{ClosedLoopbackPort()}/");
        using var client = new DebuginfodClient([closed, debuginfod.Server.Url]);

        var path = await client.FetchDebugInfoAsync(debuginfod.FirstBuildId, cache.Path, Token);

        Assert.Equal(await File.ReadAllBytesAsync(debuginfod.FirstPath, Token), await File.ReadAllBytesAsync(path, Token));
        using var alone = new DebuginfodClient([closed]);
        var e = await Assert.ThrowsAsync<DebuginfodException>(() => alone.FetchDebugInfoAsync(debuginfod.SecondBuildId, cache.Path, Token));
        Assert.Equal("DebuginfodUnreachable", e.ErrorId);
        Assert.Equal(closed, e.Server);
        Assert.Contains(closed.ToString(), e.Message);
    }

    [Fact]
    public async Task Download_over_the_size_cap_is_refused_and_leaves_nothing()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        var cap = new FileInfo(debuginfod.FirstPath).Length - 1;
        using var client = new DebuginfodClient([debuginfod.Server.Url]) { MaxDownloadBytes = cap };

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync(debuginfod.FirstBuildId, cache.Path, Token));

        Assert.Equal("DebuginfodTooLarge", e.ErrorId);
        Assert.Contains(cap.ToString(), e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache.Path, debuginfod.FirstBuildId)));
    }

    // debuginfod itself only ever serves the file indexed under the id, so a server that lies is a fake.
    [Fact]
    public async Task File_whose_build_id_differs_is_refused_and_leaves_nothing()
    {
        debuginfod.SkipIfUnavailable();
        using var cache = new TempDirectory();
        var wrongFile = await File.ReadAllBytesAsync(debuginfod.SecondPath, Token);
        using var client = new DebuginfodClient([new Uri("http://debuginfod.invalid/")], new FixedAnswerHandler(wrongFile));

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync(debuginfod.FirstBuildId, cache.Path, Token));

        Assert.Equal("DebuginfodBuildIdMismatch", e.ErrorId);
        Assert.Contains(debuginfod.SecondBuildId, e.Message);
        Assert.Contains(debuginfod.FirstBuildId, e.Message);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache.Path, debuginfod.FirstBuildId)));
    }

    [Fact]
    public async Task File_that_is_not_elf_is_refused()
    {
        using var cache = new TempDirectory();
        using var client = new DebuginfodClient([new Uri("http://debuginfod.invalid/")], new FixedAnswerHandler("<html>proxy error</html>"u8.ToArray()));

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync("ab12", cache.Path, Token));

        Assert.Equal("DebuginfodFileInvalid", e.ErrorId);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache.Path, "ab12")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("../../etc")]
    [InlineData("ab/cd")]
    [InlineData("zz")]
    public async Task Malformed_build_id_is_refused_before_any_request(string buildId)
    {
        using var cache = new TempDirectory();
        var counter = new CountingHandler();
        using var client = new DebuginfodClient([new Uri("http://127.0.0.1:1/")], counter);

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync(buildId, cache.Path, Token));

        Assert.Equal("DebuginfodBuildIdInvalid", e.ErrorId);
        Assert.Equal(0, counter.Requests);
        Assert.Empty(Directory.GetFileSystemEntries(cache.Path));
    }

    [Fact]
    public async Task Build_id_longer_than_the_bound_is_refused()
    {
        using var cache = new TempDirectory();
        using var client = new DebuginfodClient([new Uri("http://127.0.0.1:1/")]);
        var e = await Assert.ThrowsAsync<DebuginfodException>(() =>
            client.FetchDebugInfoAsync(new string('a', DebuginfodClient.MaxBuildIdHexDigits + 2), cache.Path, Token));
        Assert.Equal("DebuginfodBuildIdInvalid", e.ErrorId);
    }

    [Fact]
    public async Task Symbolic_link_in_the_cache_is_not_followed()
    {
        using var cache = new TempDirectory();
        using var elsewhere = new TempDirectory();
        const string id = "ab12";
        Directory.CreateDirectory(cache.File(id));
        File.CreateSymbolicLink(Path.Combine(cache.File(id), "vmlinux"), elsewhere.File("target"));
        var counter = new CountingHandler();
        using var client = new DebuginfodClient([new Uri("http://127.0.0.1:1/")], counter);

        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync(id, cache.Path, Token));

        Assert.Equal("DebuginfodCacheUnusable", e.ErrorId);
        Assert.Contains("symbolic link", e.Message);
        Assert.False(File.Exists(elsewhere.File("target")));
        Assert.Equal(0, counter.Requests);
    }

    [Fact]
    public async Task No_server_is_a_clear_error()
    {
        using var cache = new TempDirectory();
        using var client = new DebuginfodClient([]);
        var e = await Assert.ThrowsAsync<DebuginfodException>(() => client.FetchDebugInfoAsync("ab12", cache.Path, Token));
        Assert.Equal("DebuginfodNoServers", e.ErrorId);
        Assert.Contains("DEBUGINFOD_URLS", e.Message);
    }

    [Fact]
    public void Server_list_is_read_as_elfutils_reads_DEBUGINFOD_URLS()
    {
        Assert.Equal([new Uri("http://a.example:8002/"), new Uri("https://b.example/debuginfod/")],
            DebuginfodClient.ParseServerList("  http://a.example:8002   https://b.example/debuginfod/ "));
        Assert.Empty(DebuginfodClient.ParseServerList(null));
        Assert.Empty(DebuginfodClient.ParseServerList(""));
        var e = Assert.Throws<VmDebug.Engine.VmDebugException>(() => DebuginfodClient.ParseServerList("http://a.example ftp://b.example"));
        Assert.Equal("DebuginfodUrlInvalid", e.ErrorId);
        Assert.Contains("ftp://b.example", e.Message);
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed: connecting is refused
    }

    /// <summary>Counts the requests that reach the real network handler.</summary>
    private sealed class CountingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _requests;
        public int Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>A server that answers every request with the same body.</summary>
    private sealed class FixedAnswerHandler(byte[] body) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) });
    }
}
