using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptNeurons.Tests.Hub;

/// <summary>
/// A local stand-in for huggingface.co that answers the way the real Hub does: 307 to
/// /api/resolve-cache/… for small files, 302 to a CDN on another host ("localhost") for LFS files with X-Linked-Etag
/// and X-Linked-Size, X-Error-Code on errors, repo info and a paged tree API. Switches inject the failures to test.
/// </summary>
public sealed class MockHub : IDisposable
{
    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    readonly MockHttpServer server;
    int dropsLeft;

    public MockHub()
    {
        (Model, Dataset) = MockRepo.Standard();
        server = new MockHttpServer(Handle);
    }

    public MockRepo Model { get; }
    public MockRepo Dataset { get; }
    public string Url => $"http://127.0.0.1:{server.Port}";
    public IReadOnlyList<SeenRequest> Requests => server.Requests;
    public void ClearRequests() => server.ClearRequests();

    /// <summary>Cut LFS bodies after this many bytes of the file, <paramref name="times"/> times; the connection just closes.</summary>
    public void DropAfter(int bytes, int times = 1) => (dropAt, dropsLeft) = (bytes, times);
    int dropAt;

    /// <summary>Answer the next <paramref name="times"/> requests on /resolve/ with this status (429 with RateLimit r=0;t=0).</summary>
    public void FailResolve(int status, int times) => (failStatus, failsLeft) = (status, times);
    int failStatus, failsLeft;

    /// <summary>Answer the next <paramref name="times"/> requests for a later page of a file list (cursor > 0) with this status.</summary>
    public void FailLaterTreePages(int status, int times) => (treeFailStatus, treeFailsLeft) = (status, times);
    int treeFailStatus, treeFailsLeft;

    /// <summary>Answer the next <paramref name="times"/> GETs of a file's bytes with 429 and RateLimit r=0;t=0 (wait 1 s).</summary>
    public void RateLimitDownloads(int times) => downloadLimitsLeft = times;
    int downloadLimitsLeft;

    /// <summary>Flip one byte of every LFS body: same size, wrong SHA-256.</summary>
    public bool CorruptLfs { get; set; }

    /// <summary>Answer a Range request with 200 and the whole file, as a misbehaving proxy does.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>A gated repo: without this token 401 GatedRepo, with another 401 "Invalid credentials".</summary>
    public string? RequiredToken { get; set; }

    /// <summary>The public Hub's redirects (on), or every file answered with 200 at /resolve/ as for private repos (off).</summary>
    public bool Redirects { get; set; } = true;

    MockReply Handle(SeenRequest r)
    {
        var seg = r.Path.Split('/')[1..];   // still percent-encoded: a revision's %2F stays inside its segment
        if (r.Method == "GET" && seg is ["cdn", ..] or ["api", "resolve-cache", ..] && Interlocked.Decrement(ref downloadLimitsLeft) >= 0)
            return MockReply.Text(429, "", ("RateLimit", "\"resolvers\";r=0;t=0"));
        if (seg is ["cdn", var sha]) return Cdn(r, sha);
        if (RequiredToken is not null && r.Header("authorization") != $"Bearer {RequiredToken}")
            return r.Header("authorization") is null
                ? MockReply.Text(401, "", ("X-Error-Code", "GatedRepo"), ("X-Error-Message", "Access to model facebook/opt-125m is restricted. You must have access to it and be authenticated to access it. Please log in."))
                : MockReply.Text(401, "", ("X-Error-Message", "Invalid credentials in Authorization header"));
        var (kind, rest) = seg[0] == "datasets" ? ("datasets", seg[1..]) : ("models", seg);
        if (rest.Contains("resolve") && Interlocked.Decrement(ref failsLeft) >= 0)
            return MockReply.Text(failStatus, "{\"error\": \"mock outage\"}", ("X-Error-Message", "mock outage"), ("RateLimit", "\"resolvers\";r=0;t=0"));
        return seg switch
        {
            ["api", "resolve-cache", var k, var o, var n, var commit, .. var path] => WithRepo(r, k, $"{o}/{n}", repo => Serve(r, repo, commit, Path(path))),
            ["api", var k, var o, var n, "revision", var rev] => WithRevision(r, k, $"{o}/{n}", rev, (repo, c) => Info(repo, c)),
            ["api", var k, var o, var n, "tree", var rev] => WithRevision(r, k, $"{o}/{n}", rev, (repo, c) => Tree(r, repo, c)),
            _ when rest is [var o, var n, "resolve", var rev, .. var path] => WithRevision(r, kind, $"{o}/{n}", rev, (repo, c) => Resolve(r, repo, rev, c, Path(path))),
            _ => MockReply.Text(404, "no such route"),
        };
    }

    static string Path(string[] segments) => string.Join('/', segments.Select(Uri.UnescapeDataString));

    MockReply WithRepo(SeenRequest r, string kind, string id, Func<MockRepo, MockReply> then) =>
        new[] { Model, Dataset }.FirstOrDefault(m => m.Kind == kind && m.Id == id) is { } repo ? then(repo)
            : MockReply.Text(r.Header("authorization") is null ? 401 : 404, "", ("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Repository not found"));

    MockReply WithRevision(SeenRequest r, string kind, string id, string rev, Func<MockRepo, string, MockReply> then) => WithRepo(r, kind, id, repo =>
        repo.Commits.ContainsKey(repo.Commit(Uri.UnescapeDataString(rev))) ? then(repo, repo.Commit(Uri.UnescapeDataString(rev)))
            : MockReply.Text(404, "", ("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", $"Invalid rev id: {Uri.UnescapeDataString(rev)}")));

    MockReply Resolve(SeenRequest r, MockRepo repo, string rawRev, string commit, string path)
    {
        if (!repo.Commits[commit].TryGetValue(path, out var file))
            return MockReply.Text(404, "", ("X-Error-Code", "EntryNotFound"), ("X-Error-Message", "Entry not found"), ("X-Repo-Commit", commit));
        if (!Redirects) return Serve(r, repo, commit, path);
        if (file.Lfs)
            return MockReply.Text(302, $"Found. Redirecting to the CDN", ("Location", $"http://localhost:{server.Port}/cdn/{file.Sha256}?Expires=1700000000&Signature=abc"),
                ("X-Repo-Commit", commit), ("X-Linked-Etag", $"\"{file.Sha256}\""), ("X-Linked-Size", $"{file.Content.Length}"), ("ETag", "\"not-the-file\""));
        var original = Uri.EscapeDataString($"/{repo.Id}/resolve/{Uri.UnescapeDataString(rawRev)}/{path}");
        return MockReply.Text(307, "Temporary Redirect.", ("X-Repo-Commit", commit), ("Accept-Ranges", "bytes"),
            ("Location", $"/api/resolve-cache/{repo.Kind}/{repo.Id}/{commit}/{path}?{original}=&etag=%22{file.GitSha1}%22"));
    }

    MockReply Serve(SeenRequest r, MockRepo repo, string commit, string path) =>
        repo.Commits.TryGetValue(commit, out var files) && files.TryGetValue(path, out var file)
            ? Body(r, file, ("ETag", $"\"{file.Etag}\""), ("X-Repo-Commit", commit))
            : MockReply.Text(404, "", ("X-Error-Code", "EntryNotFound"));

    MockReply Cdn(SeenRequest r, string sha)
    {
        if (!r.Host.StartsWith("localhost:", StringComparison.Ordinal)) return MockReply.Text(400, "the CDN lives on its own host");
        var file = new[] { Model, Dataset }.SelectMany(m => m.Commits.Values).SelectMany(f => f.Values).FirstOrDefault(f => f.Sha256 == sha);
        return file is null ? MockReply.Text(404, "NoSuchKey") : Body(r, file, ("ETag", $"\"{sha}\""));
    }

    /// <summary>The bytes of a file, honouring Range: bytes=N- with 206, and the drop / corrupt / ignore-range switches.</summary>
    MockReply Body(SeenRequest r, MockFile file, params (string, string)[] headers)
    {
        var content = file.Content;
        if (CorruptLfs && file.Lfs) { content = [.. content]; content[content.Length / 2] ^= 0xFF; }
        long start = !IgnoreRange && r.Header("range") is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) ? long.Parse(range[6..].TrimEnd('-')) : 0;
        if (start >= content.Length && start > 0) return MockReply.Text(416, "", ("Content-Range", $"bytes */{content.Length}"));
        var all = headers.Append(("Accept-Ranges", "bytes")).ToList();
        if (start > 0) all.Add(("Content-Range", $"bytes {start}-{content.Length - 1}/{content.Length}"));
        int? drop = file.Lfs && r.Method == "GET" && start <= dropAt && Interlocked.Decrement(ref dropsLeft) >= 0 ? dropAt - (int)start : null;
        return new MockReply(start > 0 ? 206 : 200, all, content[(int)start..], drop);
    }

    static MockReply Info(MockRepo repo, string commit) => MockReply.Text(200, JsonSerializer.Serialize(new
    {
        id = repo.Id, sha = commit, siblings = repo.Commits[commit].Keys.Select(k => new { rfilename = k }),
    }), ("Content-Type", "application/json"));

    /// <summary>The recursive listing, directories included, three items a page, chained by Link: rel="next".</summary>
    MockReply Tree(SeenRequest r, MockRepo repo, string commit)
    {
        var files = repo.Commits[commit];
        var dirs = files.Keys.SelectMany(p => Enumerable.Range(1, p.Count(c => c == '/')).Select(n => string.Join('/', p.Split('/').Take(n)))).Distinct();
        var items = dirs.Select(d => (object)new { type = "directory", path = d, oid = "0000000000000000000000000000000000000000" })
            .Concat(files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => (object)new
            {
                type = "file", path = f.Key, oid = f.Value.GitSha1, size = f.Value.Content.Length,
                lfs = f.Value.Lfs ? new { oid = f.Value.Sha256, size = f.Value.Content.Length, pointerSize = 134 } : null,
            })).ToList();
        int cursor = r.Query.Split('&').FirstOrDefault(q => q.StartsWith("cursor=", StringComparison.Ordinal)) is { } c ? int.Parse(c[7..]) : 0;
        if (cursor > 0 && Interlocked.Decrement(ref treeFailsLeft) >= 0) return MockReply.Text(treeFailStatus, "{\"error\": \"mock outage\"}");
        var headers = new List<(string, string)> { ("Content-Type", "application/json") };
        if (cursor + 3 < items.Count) headers.Add(("Link", $"<{Url}{r.Path}?recursive=true&expand=false&cursor={cursor + 3}>; rel=\"next\""));
        return new MockReply(200, headers, JsonSerializer.SerializeToUtf8Bytes(items.Skip(cursor).Take(3), Json));
    }

    public void Dispose() => server.Dispose();
}
