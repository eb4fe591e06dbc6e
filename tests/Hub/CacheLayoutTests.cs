using System.Text.Json;
using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>The cache on disk is the one huggingface_hub writes: paths, refs, blob names, symlink targets.</summary>
public sealed class CacheLayoutTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    [Theory]
    [InlineData("../config.json")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\..\\..\\x")]
    [InlineData("C:x")]
    [InlineData("sub//config.json")]
    public void Download_OfAPathOutsideTheSnapshot_IsRefusedBeforeAnyRequest(string file)
    {
        var e = Assert.Throws<ArgumentException>(() => HubFile.Download("facebook/opt-125m", file, t.Options()));
        Assert.StartsWith($"'{file}' is not a safe relative path inside a repo.", e.Message);
        Assert.Empty(t.Hub.Requests);
        Assert.False(Directory.Exists(t.Cache) && Directory.EnumerateFileSystemEntries(t.Cache, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Download_SmallFile_WritesRefsBlobAndRelativeSymlink()
    {
        var main = t.Hub.Model.Refs["main"];
        var config = t.Hub.Model.File("main", "config.json");

        var path = HubFile.Download("facebook/opt-125m", "config.json", t.Options());

        var repoDir = Path.Combine(t.Cache, "models--facebook--opt-125m");
        Assert.Equal(Path.Combine(repoDir, "snapshots", main, "config.json"), path);
        Assert.Equal(main, File.ReadAllText(Path.Combine(repoDir, "refs", "main")));   // bare hash, no newline
        Assert.Equal(config.Content, File.ReadAllBytes(Path.Combine(repoDir, "blobs", config.GitSha1)));
        Assert.Equal($"../../blobs/{config.GitSha1}", new FileInfo(path).LinkTarget);
        Assert.Equal(config.Content, File.ReadAllBytes(path));
        Assert.StartsWith("Signature: 8a477f597d28d172789f06886806bc55", File.ReadAllText(Path.Combine(t.Cache, "CACHEDIR.TAG")));
        Assert.True(File.Exists(Path.Combine(t.Cache, ".locks", "models--facebook--opt-125m", config.GitSha1 + ".lock")));
        // HEAD /resolve/ → 307 → HEAD /api/resolve-cache/… (query dropped) → GET of that location.
        Assert.Equal(["HEAD /facebook/opt-125m/resolve/main/config.json", $"HEAD /api/resolve-cache/models/facebook/opt-125m/{main}/config.json",
            $"GET /api/resolve-cache/models/facebook/opt-125m/{main}/config.json"], t.Hub.Requests.Select(r => $"{r.Method} {r.Target}"));
    }

    [Fact]
    public void ALinkWhoseBlobWasDeleted_IsNotACachedFile_OnlineItIsFetchedAgain()
    {
        var config = t.Hub.Model.File("main", "config.json");
        var path = HubFile.Download("facebook/opt-125m", "config.json", t.Options());
        File.Delete(Path.Combine(t.Cache, "models--facebook--opt-125m", "blobs", config.GitSha1));   // a cleaned-up blobs/ folder

        var offline = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options() with { Offline = true }));
        Assert.Equal(HubErrorKind.NotCached, offline.Kind);
        Assert.Equal(path, HubFile.Download("facebook/opt-125m", "config.json", t.Options()));
        Assert.Equal(config.Content, File.ReadAllBytes(path));
    }

    [Fact]
    public void Ensure_Model_FetchesCheckpointFilesAndPrefersSafetensors()
    {
        var main = t.Hub.Model.Refs["main"];
        var weights = t.Hub.Model.File("main", "model.safetensors");

        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options());

        Assert.Equal(Path.Combine(t.RepoDir(t.Hub.Model), "snapshots", main), dir);
        Assert.Equal(["config.json", "generation_config.json", "merges.txt", "model.safetensors", "vocab.json"],
            Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal($"../../blobs/{weights.Sha256}", new FileInfo(Path.Combine(dir, "model.safetensors")).LinkTarget);
        Assert.Equal(weights.Content, File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        Assert.Equal(5, Directory.GetFiles(Path.Combine(t.RepoDir(t.Hub.Model), "blobs")).Length);
        // The listing went through the paged tree API at the commit, and is cached in huggingface_hub ≥ 1.22's format.
        Assert.Equal(3, t.Hub.Requests.Count(r => r.Path == $"/api/models/facebook/opt-125m/tree/{main}"));   // 9 files, 3 a page
        using var tree = JsonDocument.Parse(File.ReadAllText(Path.Combine(t.RepoDir(t.Hub.Model), "trees", main + ".json")));
        Assert.Equal(1, tree.RootElement.GetProperty("format_version").GetInt32());
        var entry = tree.RootElement.GetProperty("files").GetProperty("model.safetensors");
        Assert.Equal(weights.Sha256, entry.GetProperty("lfs_sha256").GetString());
        Assert.Equal(300_000, entry.GetProperty("size").GetInt64());
        Assert.Equal(9, tree.RootElement.GetProperty("files").EnumerateObject().Count());
    }

    [Fact]
    public void Download_DatasetFileOnSlashedRevision_NestsRefsAndLinksFromDepth()
    {
        var commit = t.Hub.Dataset.Refs["refs/convert/parquet"];
        var shard = t.Hub.Dataset.File(commit, "default/validation/0000.parquet");

        var path = HubFile.Download("datasets/test-org/tiny-pile", "default/validation/0000.parquet", t.Options("refs/convert/parquet"));

        var repoDir = Path.Combine(t.Cache, "datasets--test-org--tiny-pile");
        Assert.Equal(Path.Combine(repoDir, "snapshots", commit, "default", "validation", "0000.parquet"), path);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repoDir, "refs", "refs", "convert", "parquet")));
        Assert.Equal($"../../../../blobs/{shard.Sha256}", new FileInfo(path).LinkTarget);
        Assert.Equal(shard.Content, File.ReadAllBytes(path));
        Assert.Equal("/datasets/test-org/tiny-pile/resolve/refs%2Fconvert%2Fparquet/default/validation/0000.parquet", t.Hub.Requests[0].Target);
    }

    [Fact]
    public void Ensure_SecondCall_AtCommit_SendsNoRequest_AtBranch_OnlyRepoInfo()
    {
        var main = t.Hub.Model.Refs["main"];
        var first = HubSnapshot.Ensure("facebook/opt-125m", t.Options());
        t.Hub.ClearRequests();

        Assert.Equal(first, HubSnapshot.Ensure("facebook/opt-125m", t.Options(main)));
        Assert.Equal(first + "/config.json", HubFile.Download("facebook/opt-125m", "config.json", t.Options(main)));
        Assert.Empty(t.Hub.Requests);

        // A branch may have moved, so it is resolved again (as huggingface_hub does); the files are not fetched again.
        Assert.Equal(first, HubSnapshot.Ensure("facebook/opt-125m", t.Options()));
        Assert.Equal([$"GET /api/models/facebook/opt-125m/revision/main"], t.Hub.Requests.Select(r => $"{r.Method} {r.Target}"));
    }

    [Fact]
    public void Ensure_WithoutSymlinks_PutsPlainFilesInTheSnapshot()
    {
        var weights = t.Hub.Model.File("main", "model.safetensors");

        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options(env: ("HF_HUB_DISABLE_SYMLINKS", "1")));

        var file = new FileInfo(Path.Combine(dir, "model.safetensors"));
        Assert.Null(file.LinkTarget);
        Assert.Equal(weights.Content, File.ReadAllBytes(file.FullName));
        Assert.False(File.Exists(Path.Combine(t.RepoDir(t.Hub.Model), "blobs", weights.Sha256)));   // moved, not copied
    }

    [Fact]
    public void Ensure_Redirectless_PrivateRepoShape_GivesTheSameCache()
    {
        t.Hub.Redirects = false;
        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options());
        var weights = t.Hub.Model.File("main", "model.safetensors");
        Assert.Equal($"../../blobs/{weights.Sha256}", new FileInfo(Path.Combine(dir, "model.safetensors")).LinkTarget);
        Assert.Empty(t.CdnRequests);
    }
}
